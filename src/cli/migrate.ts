import { DEFAULTS } from '../config.js';
import { migrateToLatest } from '../db/migrations.js';
import { openDatabase } from '../db/open.js';
import type { CommandSpec } from './command.js';
import { createProgress } from './progress.js';
import { startupFailure } from './startup-errors.js';

/** Applies migrations to DATABASE_URL and exits. Start-up applies them too; this is for deploy pipelines. */
export const migrateCommand: CommandSpec = {
  name: 'migrate',
  summary: 'apply database migrations and exit (start and serve also apply them)',
  options: [],
  env: ['DATABASE_URL', 'LOG_LEVEL'],
  examples: ['weapp-pay migrate', 'DATABASE_URL=postgres://weapp@db:5432/weapp weapp-pay migrate'],
  readsSettings: true,
  async run(_args, _options, { env, io }) {
    const url = env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl;
    try {
      const database = await openDatabase(url);
      try {
        // One step per migration: on a large database a migration that rewrites a table takes a while.
        const progress = createProgress({ stream: { write: io.err, isTTY: process.stderr.isTTY }, env });
        let applied: string[];
        try {
          applied = await migrateToLatest(database, {
            planned: (names) => {
              if (names.length > 0) progress.start(names.length, 'migrate');
            },
            migrated: (name) => progress.tick(1, name),
          });
        } catch (err) {
          progress.done('failed');
          throw err;
        }
        progress.done(`${applied.length} migration(s) applied`);
        io.out(
          applied.length === 0 ? 'Database is up to date.\n' : `Applied migrations: ${applied.join(', ')}\n`,
        );
      } finally {
        await database.close();
      }
    } catch (err) {
      io.err(startupFailure(err, { databaseUrl: url }, env.LOG_LEVEL?.trim()));
      return 1;
    }
    return 0;
  },
};
