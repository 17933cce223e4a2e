import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresTestUrl, type TestDatabase, testDatabases } from '../../test/db/dialects.js';
import { MIGRATION_NAMES, migrateToLatest } from './migrations.js';
import type { DbHandle } from './open.js';
import { openDatabase } from './open.js';

const TABLES = [
  'anomalies',
  'api_keys',
  'idempotency_keys',
  'order_events',
  'orders',
  'payment_evidence',
  'reconciliation_reports',
  'refunds',
  'scheduled_runs',
  'sessions',
  'users',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_endpoints',
  'webhook_events',
  'webhook_outbox_start',
  'wechat_notifications',
];

for (const database of testDatabases()) {
  describe(`migrations on ${database.name}`, () => {
    const opened: DbHandle[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((h) => h.close()));
    });

    it('applies every migration once, then nothing on the next run', async () => {
      const handle = await database.open();
      opened.push(handle);
      expect(await migrateToLatest(handle)).toEqual(MIGRATION_NAMES);
      expect(await migrateToLatest(handle)).toEqual([]);
      expect(await tablesOf(handle)).toEqual(TABLES);
    });

    it('creates the unique indexes that keep money consistent', async () => {
      const handle = await database.openMigrated();
      opened.push(handle);
      const user = { id: 'u1', openid: 'o1', unionid: null, created_at: 1, updated_at: 1 };
      await handle.db.insertInto('users').values(user).execute();
      await expect(
        handle.db
          .insertInto('users')
          .values({ ...user, id: 'u2' })
          .execute(),
      ).rejects.toThrow(/unique/i);
    });

    it('lets two handles migrate the same database at once, applying each migration exactly once', async () => {
      const first = await database.open();
      opened.push(first);
      // A second, independent handle on the same database, as a second process would have.
      const second = await openDatabase(first.url);
      opened.push(second);
      const [a, b] = await Promise.all([migrateToLatest(first), migrateToLatest(second)]);
      expect([...a, ...b].sort()).toEqual([...MIGRATION_NAMES].sort());
      const { rows } = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(first.db);
      expect(Number(rows[0]?.n)).toBe(MIGRATION_NAMES.length);
    });
  });
}

/** Through Kysely's introspection, as the migrator sees them, without its bookkeeping tables. */
async function tablesOf(handle: DbHandle): Promise<string[]> {
  return (await handle.db.introspection.getTables()).map((t) => t.name).sort();
}

/** Runs `statement` on its own connection, outside any handle under test. */
async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Another session changing tables in the same PostgreSQL database, round after round, until
 * stopped: each statement commits on its own, so a listing that reads the catalogs twice can see
 * a table or column the first time and miss it the second. `stop()` says how many rounds ran.
 */
function churn(url: string, round: () => string[]): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: url });
  let stopped = false;
  let rounds = 0;
  const running = (async () => {
    await client.connect();
    while (!stopped) {
      for (const statement of round()) await client.query(statement);
      rounds++;
    }
    await client.end();
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
      return rounds;
    },
  };
}

/** Another application (or tenant, or test file) making and dropping a schema of its own. */
function churnOtherSchemas(url: string) {
  return churn(url, () => {
    const schema = `churn_${randomBytes(6).toString('hex')}`;
    return [
      `create schema ${schema}`,
      `create table ${schema}.orders (id text primary key, status text, amount int)`,
      `alter table ${schema}.orders rename column status to state`,
      `alter table ${schema}.orders drop column amount`,
      `drop table ${schema}.orders`,
      `drop schema ${schema} cascade`,
    ];
  });
}

describe.runIf(testDatabases().some((d) => d.name === 'postgres'))('migrations beside other schemas', () => {
  const database = testDatabases().find((d) => d.name === 'postgres') as TestDatabase;
  const url = postgresTestUrl();

  it("lists only the tables of its own schema, not another schema's", async () => {
    const other = `other_${randomBytes(6).toString('hex')}`;
    await adminQuery(url, `create schema ${other}; create table ${other}.not_ours (id text)`);
    const handle = await database.openMigrated();
    try {
      const listed = await handle.db.introspection.getTables({ withInternalKyselyTables: true });
      expect(listed.map((t) => t.name)).not.toContain('not_ours');
      expect(new Set(listed.map((t) => t.schema)).size).toBe(1);
      expect(listed.map((t) => t.name)).toContain('kysely_migration');
      // As Kysely's own listing says them: webhook_events.seq is a bigserial, its id is not.
      const events = listed.find((t) => t.name === 'webhook_events');
      expect(events?.columns.find((c) => c.name === 'seq')?.isAutoIncrementing).toBe(true);
      expect(events?.columns.find((c) => c.name === 'id')?.isAutoIncrementing).toBe(false);
    } finally {
      await handle.close();
      await adminQuery(url, `drop schema ${other} cascade`);
    }
  });

  it('lists its own schema while another session drops and renames tables in it', async () => {
    // A second instance applying a migration that swaps a table (as 0007_api_keys does) while
    // this one starts: each statement commits on its own, between the listing's reads.
    const handle = await database.openMigrated();
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
    const schema = rows[0]?.schema;
    const swapping = churn(url, () => [
      `create table ${schema}.swap_new (id bigserial primary key, scope text, key text)`,
      `drop table if exists ${schema}.swap`,
      `alter table ${schema}.swap_new rename to swap`,
      `alter table ${schema}.swap rename column scope to user_id`,
    ]);
    try {
      // Looking each table up again by name (pg_get_serial_sequence) failed this in each of two
      // runs, with 42P01; these must all succeed and still see our own tables.
      for (let i = 0; i < 12; i++) {
        const listed = await handle.db.introspection.getTables({ withInternalKyselyTables: true });
        expect(listed.map((t) => t.name)).toContain('orders');
      }
    } finally {
      const rounds = await swapping.stop();
      await handle.close();
      expect(rounds).toBeGreaterThan(0);
    }
  }, 30_000);

  it('migrates while another session creates, alters and drops tables in other schemas', async () => {
    const churn = churnOtherSchemas(url);
    const handles: DbHandle[] = [];
    try {
      // Each run lists tables several times; the listing across schemas failed about one time in
      // seven under this churn, so 10 fresh databases and 10 re-runs would not all pass.
      for (let i = 0; i < 10; i++) {
        const handle = await database.open();
        handles.push(handle);
        expect(await migrateToLatest(handle)).toEqual(MIGRATION_NAMES);
        expect(await migrateToLatest(handle)).toEqual([]);
      }
    } finally {
      const rounds = await churn.stop();
      await Promise.all(handles.map((h) => h.close()));
      expect(rounds).toBeGreaterThan(0);
    }
  }, 120_000);
});
