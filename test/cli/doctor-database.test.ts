/**
 * The doctor's database checks on both databases: an empty database is reachable but not
 * migrated (and stays unmigrated), a migrated one passes, with the durability each promises.
 */
import { describe, expect, it } from 'vitest';
import { checkDatabase } from '../../src/cli/doctor/database.js';
import { MIGRATION_NAMES, migrateToLatest } from '../../src/db/migrations.js';
import { testDatabases } from '../db/dialects.js';

for (const database of testDatabases()) {
  describe(`doctor database checks on ${database.name}`, { timeout: 30_000 }, () => {
    it('fails an unmigrated database without migrating it, then passes once migrated', async () => {
      const handle = await database.open();
      try {
        const before = await checkDatabase(handle.url, process.cwd());
        const byId = (results: typeof before, id: string) => results.find((r) => r.id === id);
        expect(byId(before, 'database.reachable')?.status).toBe('ok');
        expect(byId(before, 'database.migrations')).toMatchObject({
          status: 'fail',
          message: `${MIGRATION_NAMES.length} of ${MIGRATION_NAMES.length} migrations not applied (${MIGRATION_NAMES.join(', ')})`,
        });
        // Checking applied nothing: the migrator still has every migration to apply.
        expect(await migrateToLatest(handle)).toEqual(MIGRATION_NAMES);

        const after = await checkDatabase(handle.url, process.cwd());
        expect(byId(after, 'database.migrations')?.status).toBe('ok');
        expect(byId(after, 'database.durability')?.status).toBe('ok');
        if (database.name === 'sqlite') {
          expect(byId(after, 'database.durability')?.message).toContain('journal_mode=WAL, synchronous=FULL');
          expect(byId(after, 'database.location')?.status).toBe('warn');
        }
      } finally {
        await handle.close();
      }
    });
  });
}

describe('doctor database checks, unreachable', () => {
  it('names DATABASE_URL when PostgreSQL does not answer, with the password hidden', async () => {
    const results = await checkDatabase('postgres://weapp:s3cret-pw@127.0.0.1:1/shop', process.cwd());
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'database.reachable', status: 'fail' });
    expect(results[0]?.fix).toContain('DATABASE_URL');
    expect(JSON.stringify(results)).not.toContain('s3cret-pw');
  });

  it('refuses an in-memory SQLite database: every order would be lost at exit', async () => {
    const [result] = await checkDatabase('sqlite::memory:', process.cwd());
    expect(result).toMatchObject({ id: 'database.reachable', status: 'fail' });
  });
});
