/**
 * `weapp-pay migrate` reports each migration as it is applied: plain lines on stderr when not on
 * a terminal (a deploy log), on SQLite and PostgreSQL; nothing to report on an up-to-date database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES } from '../../src/db/migrations.js';
import { testDatabases } from '../db/dialects.js';
import { runCli, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

for (const database of testDatabases()) {
  describe(`weapp-pay migrate on ${database.name}`, () => {
    it('prints one line per migration on stderr, then the summary; none the second time', async () => {
      const dir = tempDir(cleanups);
      const db = await database.open();
      try {
        const env = { DATABASE_URL: db.url };
        const first = await runCli(['migrate'], { cwd: dir, env });
        expect(first.code, first.stderr).toBe(0);
        const total = MIGRATION_NAMES.length;
        const lines = first.stderr.split('\n').filter((l) => l.startsWith('migrate:'));
        expect(lines[0]).toBe(`migrate: ${total} step(s)`);
        expect(lines.slice(1, -1)).toEqual(
          MIGRATION_NAMES.map((name, i) => `migrate: ${i + 1}/${total} ${name}`),
        );
        expect(lines.at(-1)).toMatch(
          new RegExp(`^migrate: ${total} migration\\(s\\) applied \\([\\d.]+ s\\)$`),
        );
        expect(first.stderr).not.toContain('\u001b[');
        expect(first.stdout).toBe(`Applied migrations: ${MIGRATION_NAMES.join(', ')}\n`);

        const again = await runCli(['migrate'], { cwd: dir, env });
        expect(again.stdout).toBe('Database is up to date.\n');
        expect(again.stderr).not.toContain('migrate:');
      } finally {
        await db.close();
      }
    }, 60_000);
  });
}
