import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
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

/** Our own tables only: on PostgreSQL other schemas (parallel test files) are not ours to count. */
async function tablesOf(handle: DbHandle): Promise<string[]> {
  if (handle.dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_name not like 'kysely_%'`.execute(handle.db);
    return rows.map((r) => r.name).sort();
  }
  return (await handle.db.introspection.getTables()).map((t) => t.name).sort();
}
