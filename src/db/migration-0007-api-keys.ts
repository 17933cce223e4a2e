import { type Kysely, type Migration, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration interface is declared over Kysely<any>.
type AnyDb = Kysely<any>;

/**
 * 0007_api_keys: the shop's server API.
 * - api_keys: keys for /v1, stored as the SHA-256 of the key only, with the last four characters
 *   for recognition.
 * - orders: the payments a shop's backend creates through /v1 (api_key_id, metadata, attach,
 *   notify_url; NULL for catalogue orders).
 * - idempotency_keys rebuilt with explicit columns, one engine for every scope: `scope` (a user
 *   id, `admin`, or `apikey:<id>`), `claimed_at` (when the current attempt claimed the key; a
 *   take-over moves it), `completed_at`, `resource_id` (the order or refund the key made, written in
 *   the transaction that saves it) and the state `interrupted` (an attempt failed after making its
 *   resource; the next retry resumes it). The old `created_at` meant all three times, and 0 meant
 *   "released". Live keys are copied across, so a retry that spans the upgrade still finds its order.
 */
export function apiKeysMigration(): Migration {
  return {
    up: async (db: AnyDb) => {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('last_four', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addUniqueConstraint('api_keys_key_hash_key', ['key_hash'])
        .execute();

      for (const column of ['api_key_id', 'metadata', 'attach', 'notify_url']) {
        await db.schema.alterTable('orders').addColumn(column, 'text').execute();
      }

      await db.schema
        .createTable('idempotency_keys_0007')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull().check(sql`length(key) between 1 and 255`))
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c.notNull().check(sql`state in ('in_flight', 'interrupted', 'done')`),
        )
        .addColumn('resource_id', 'text')
        .addColumn('claimed_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addPrimaryKeyConstraint('idempotency_keys_scope_key_pkey', ['scope', 'key'])
        .execute();
      // The old row kept no completion time: its claim time is the best there is.
      await sql`insert into idempotency_keys_0007
        (scope, key, request_hash, state, resource_id, claimed_at, completed_at, expires_at,
         response_status, response_body)
        select user_id, key, request_hash,
          case when state = 'in_flight' and created_at = 0 then 'interrupted' else state end,
          order_id, created_at, case when state = 'done' then created_at end, expires_at,
          response_status, response_body
        from idempotency_keys`.execute(db);
      await db.schema.dropTable('idempotency_keys').execute();
      await db.schema.alterTable('idempotency_keys_0007').renameTo('idempotency_keys').execute();
      await db.schema
        .createIndex('idempotency_keys_expires_at_idx')
        .on('idempotency_keys')
        .column('expires_at')
        .execute();
    },
  };
}
