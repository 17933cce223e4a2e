import { isAbsolute, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATION_NAMES } from '../db/migrations.js';

/** The file a sqlite: DATABASE_URL names, absolute; undefined for PostgreSQL. */
export function sqlitePathOf(url: string, cwd: string): string | undefined {
  if (!url.startsWith('sqlite:')) return undefined;
  const path = url.slice('sqlite:'.length);
  return isAbsolute(path) ? path : resolve(cwd, path);
}

export type BackupCheck = { ok: true; orders: number; latest: string } | { ok: false; problem: string };

/**
 * Whether a file is a sound weapp-pay database this version can run: SQLite's integrity_check
 * passes, it has our migrations table, and every migration in it is one this version knows (a
 * backup from a newer version would meet code that does not understand its schema).
 */
export function checkBackupFile(file: string): BackupCheck {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') return { ok: false, problem: `integrity_check says ${String(integrity)}` };
    const table = db
      .prepare("select name from sqlite_master where type = 'table' and name = 'kysely_migration'")
      .get();
    if (!table) return { ok: false, problem: 'it is not a weapp-pay database (no kysely_migration table)' };
    const applied = (
      db.prepare('select name from kysely_migration order by name').all() as { name: string }[]
    ).map((r) => r.name);
    const unknown = applied.filter((name) => !MIGRATION_NAMES.includes(name));
    if (unknown.length > 0) {
      return {
        ok: false,
        problem: `it comes from a newer weapp-pay (migrations ${unknown.join(', ')} are unknown to this version); upgrade weapp-pay first`,
      };
    }
    const orders = (db.prepare('select count(*) as n from orders').get() as { n: number }).n;
    return { ok: true, orders, latest: applied.at(-1) ?? 'none' };
  } catch (err) {
    return { ok: false, problem: `it cannot be read as a SQLite database (${(err as Error).message})` };
  } finally {
    db?.close();
  }
}
