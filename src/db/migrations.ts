import {
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely';
import type { SqlDialect } from './database.js';
import { consoleMigration } from './migration-0005-console.js';
import { reconciliationMigration } from './migration-0006-reconciliation.js';
import { apiKeysMigration } from './migration-0007-api-keys.js';
import { webhooksMigration } from './migration-0008-webhooks.js';
import type { DbHandle } from './open.js';
import { migrationHandle } from './open-postgres.js';

/**
 * Migrations live in code, in order, and are never edited once released: a new change is a new
 * entry. Each receives the dialect for the few types that differ (auto-increment ids).
 */
type MigrationFactory = (dialect: SqlDialect) => Migration;

// Kysely migrations work on an untyped database: the schema is what they are creating.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration interface is declared over Kysely<any>.
type AnyDb = Kysely<any>;

const MIGRATIONS: Record<string, MigrationFactory> = {
  '0001_initial': (dialect) => ({
    up: async (db: AnyDb) => {
      const autoId = dialect === 'postgres' ? 'bigserial' : 'integer';
      const autoIdColumn = (c: ColumnDefinitionBuilder) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('openid', 'text', (c) => c.notNull().unique())
        .addColumn('unionid', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('openid', 'text', (c) => c.notNull())
        .addColumn('out_trade_no', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('amount', 'integer', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('prepay_request', 'text')
        .addColumn('prepay_id', 'text')
        .addColumn('prepay_expires_at', 'bigint')
        .addColumn('transaction_id', 'text')
        .addColumn('paid_at', 'bigint')
        .addColumn('paid_source', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_queried_at', 'bigint')
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        // Named, so a violation can be told apart from any other (see src/db/errors.ts).
        .addUniqueConstraint('orders_out_trade_no_key', ['out_trade_no'])
        .addUniqueConstraint('orders_transaction_id_key', ['transaction_id'])
        .addCheckConstraint('orders_amount_positive', sql`amount > 0`)
        .addCheckConstraint('orders_quantity_positive', sql`quantity > 0`)
        .execute();
      await db.schema
        .createIndex('orders_status_created_at_idx')
        .on('orders')
        .columns(['status', 'created_at'])
        .execute();
      await db.schema
        .createIndex('orders_user_id_created_at_idx')
        .on('orders')
        .columns(['user_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('order_events')
        .addColumn('id', autoId, autoIdColumn)
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('order_events_order_id_idx')
        .on('order_events')
        .columns(['order_id', 'id'])
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull().check(sql`length(key) between 1 and 255`))
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('in_flight', 'done')`))
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('order_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pkey', ['user_id', 'key'])
        .execute();
      await db.schema
        .createIndex('idempotency_keys_expires_at_idx')
        .on('idempotency_keys')
        .column('expires_at')
        .execute();

      await db.schema
        .createTable('anomalies')
        .addColumn('id', autoId, autoIdColumn)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('anomalies_kind_ref_key', ['kind', 'ref'])
        .execute();
    },
  }),
  '0002_state_machine': (dialect) => ({
    up: async (db: AnyDb) => {
      // Order status may only hold a state the transition table knows.
      await addStatusCheck(db, dialect, ORDER_STATUSES_0002);

      // Every verified payment, whatever the order's state: WeChat will not send it again.
      await db.schema
        .createTable('payment_evidence')
        .addColumn('transaction_id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('out_trade_no', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('notification', 'query')`))
        .addColumn('total_fee', 'integer', (c) => c.notNull())
        .addColumn('cash_fee', 'integer')
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('appid', 'text', (c) => c.notNull())
        .addColumn('mch_id', 'text', (c) => c.notNull())
        .addColumn('paid_at', 'bigint')
        .addColumn('time_end', 'text')
        .addColumn('order_status', 'text', (c) => c.notNull())
        .addColumn('raw', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('payment_evidence_order_id_idx')
        .on('payment_evidence')
        .column('order_id')
        .execute();
    },
  }),
  '0003_api_v3': () => ({
    up: async (db: AnyDb) => {
      // API v3 notifications by their `id`: WeChat keeps it across retries, so a copy replayed
      // inside the signature's five-minute window is answered as a duplicate; refund events,
      // which the service does not act on yet, are kept here for a person or a later release.
      await db.schema
        .createTable('wechat_notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('out_trade_no', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  }),
  '0004_refunds': (dialect) => ({
    up: async (db: AnyDb) => {
      // The order's refund ledger: what is reserved for refunds (every refund not CLOSED) and how
      // many were asked for. A refund is reserved by one conditional UPDATE of these columns
      // (src/orders/refund-store.ts); the CHECKs below are the last word if a writer ever forgot.
      if (dialect === 'postgres') {
        await sql`alter table orders
          add column refunded_fen integer not null default 0,
          add column refund_count integer not null default 0,
          add constraint orders_refunds_within_paid check (refunded_fen between 0 and amount),
          add constraint orders_refund_count_limit check (refund_count between 0 and ${sql.lit(MAX_REFUNDS_0004)})`.execute(
          db,
        );
        await sql`alter table orders drop constraint orders_status_known`.execute(db);
      } else {
        // SQLite adds a column with its CHECK (other columns may be named); see 0002 for why the
        // status rule is a pair of triggers here.
        await sql`alter table orders add column refunded_fen integer not null default 0
          check (refunded_fen between 0 and amount)`.execute(db);
        await sql`alter table orders add column refund_count integer not null default 0
          check (refund_count between 0 and ${sql.lit(MAX_REFUNDS_0004)})`.execute(db);
        for (const name of ['orders_status_known_insert', 'orders_status_known_update']) {
          await sql`drop trigger ${sql.id(name)}`.execute(db);
        }
      }
      await addStatusCheck(db, dialect, ORDER_STATUSES_0004);

      await db.schema
        .createTable('refunds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
        .addColumn('out_refund_no', 'text', (c) => c.notNull())
        .addColumn('amount', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('refund_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .addColumn('last_queried_at', 'bigint')
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        .addUniqueConstraint('refunds_out_refund_no_key', ['out_refund_no'])
        .addCheckConstraint('refunds_amount_positive', sql`amount > 0`)
        .addCheckConstraint(
          'refunds_status_known',
          sql`status in (${sql.join(REFUND_STATUSES_0004.map((s) => sql.lit(s)))})`,
        )
        .execute();
      await db.schema
        .createIndex('refunds_order_id_idx')
        .on('refunds')
        .columns(['order_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('refunds_status_created_at_idx')
        .on('refunds')
        .columns(['status', 'created_at'])
        .execute();
    },
  }),
  '0005_console': consoleMigration,
  '0006_reconciliation': reconciliationMigration,
  '0007_api_keys': apiKeysMigration,
  '0008_webhooks': webhooksMigration,
};

/**
 * Order status may only hold one of `statuses`. PostgreSQL adds a CHECK constraint (validated
 * against existing rows). SQLite cannot add a constraint to an existing table, and rebuilding
 * `orders` would need foreign_keys switched off outside a transaction (order_events references
 * it), which a migration running inside BEGIN IMMEDIATE cannot do; two triggers refuse the same
 * values on INSERT and UPDATE instead. See docs/storage.md.
 */
async function addStatusCheck(db: AnyDb, dialect: SqlDialect, statuses: readonly string[]): Promise<void> {
  const allowed = sql.join(statuses.map((s) => sql.lit(s)));
  if (dialect === 'postgres') {
    await sql`alter table orders add constraint orders_status_known check (status in (${allowed}))`.execute(
      db,
    );
    return;
  }
  for (const op of ['insert', 'update of status'] as const) {
    const name = op === 'insert' ? 'orders_status_known_insert' : 'orders_status_known_update';
    await sql`create trigger ${sql.id(name)} before ${sql.raw(op)} on orders
      when new.status not in (${allowed})
      begin select raise(abort, 'CHECK constraint failed: orders_status_known'); end`.execute(db);
  }
}

/** 0004_refunds: the states of 0002 plus PARTIALLY_REFUNDED, written out for the same reason. */
const ORDER_STATUSES_0004 = [
  'PENDING',
  'PAID',
  'PARTIALLY_REFUNDED',
  'CLOSED',
  'REFUNDED',
  'REVIEW',
] as const;
const REFUND_STATUSES_0004 = ['PROCESSING', 'SUCCESS', 'CHANGE', 'CLOSED'] as const;
/** WeChat's limit of refunds per order (《申请退款》). */
const MAX_REFUNDS_0004 = 50;

/**
 * The order states 0002_state_machine allows, written out: a released migration must not change
 * when the code's list does. A new state (PARTIALLY_REFUNDED) gets a new migration.
 */
const ORDER_STATUSES_0002 = ['PENDING', 'PAID', 'CLOSED', 'REFUNDED', 'REVIEW'] as const;

/** The names of every migration this build knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/**
 * Brings the schema up to date and returns the names applied now (empty when it already was).
 * Safe to run at every start-up and from several processes at once: on PostgreSQL Kysely holds an
 * advisory lock; on SQLite the migration transaction is BEGIN IMMEDIATE.
 *
 * @example
 * const applied = await migrateToLatest(handle); // ['0001_initial'] the first time, [] after
 */
/** Told which migrations will run, then of each one as its `up` finishes. */
export interface MigrationProgress {
  planned(names: readonly string[]): void;
  migrated(name: string): void;
}

export async function migrateToLatest(handle: DbHandle, progress?: MigrationProgress): Promise<string[]> {
  const target = migrationHandle(handle);
  try {
    const reported = (name: string, make: MigrationFactory): Migration => {
      const migration = make(handle.dialect);
      if (!progress) return migration;
      return {
        ...migration,
        up: async (db) => {
          await migration.up(db);
          progress.migrated(name);
        },
      };
    };
    const provider: MigrationProvider = {
      getMigrations: async () =>
        Object.fromEntries(Object.entries(MIGRATIONS).map(([name, make]) => [name, reported(name, make)])),
    };
    const migrator = new Migrator({
      db: target.db,
      provider,
      // Kysely looks for its bookkeeping tables across all schemas unless told which one; with
      // one schema per test run (or per tenant) that would find another schema's table.
      ...(handle.dialect === 'postgres' ? { migrationTableSchema: await currentSchema(target.db) } : {}),
    });
    if (progress) {
      const pending = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined);
      progress.planned(pending.map((m) => m.name));
    }
    const { error, results = [] } = await migrator.migrateToLatest();
    if (error) {
      const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`database migration ${failed} failed: ${String((error as Error).message ?? error)}`, {
        cause: error,
      });
    }
    return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } finally {
    await target.close();
  }
}

async function currentSchema<T>(db: Kysely<T>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check search_path in DATABASE_URL');
  return schema;
}
