import { migrateToLatest } from '../db/migrations.js';
import { openDatabase } from '../db/open.js';
import type { Env } from './index.js';

/** Applies migrations to DATABASE_URL and exits. Start-up applies them too; this is for deploy pipelines. */
export async function runMigrate(_argv: string[], env: Env): Promise<number> {
  const url = env.DATABASE_URL?.trim() || 'sqlite:./data/weapp-pay.db';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) {
    process.stderr.write('weapp-pay migrate: DATABASE_URL must start with sqlite: or postgres://\n');
    return 1;
  }
  const database = await openDatabase(url);
  try {
    const applied = await migrateToLatest(database);
    process.stdout.write(
      applied.length === 0 ? 'Database is up to date.\n' : `Applied migrations: ${applied.join(', ')}\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
