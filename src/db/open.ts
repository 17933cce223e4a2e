import type { Db, SqlDialect } from './database.js';
import { openPostgres } from './open-postgres.js';
import { openSqlite } from './open-sqlite.js';

export interface DbHandle {
  db: Db;
  dialect: SqlDialect;
  /** Closes the pool or file. A second handle on the same SQLite file keeps it open until both close. */
  close(): Promise<void>;
}

/** The subset of a pino logger the database layer writes to (pino's `Logger` fits it). */
export interface DbLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OpenOptions {
  log?: DbLog;
  /** SQLite page cache in MB (default better-sqlite3's, 16 MB); ignored by PostgreSQL. */
  sqliteCacheMb?: number;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: the server cancels a statement after this long (default 5000 ms). */
  statementTimeoutMs?: number;
  /** PostgreSQL: give up on connecting, or on waiting for a pooled connection, after this long (default 3000 ms). */
  connectTimeoutMs?: number;
}

/**
 * Opens the database named by a URL:
 * - `sqlite:PATH` (relative to the working directory, or absolute; the folder is created),
 * - `sqlite::memory:` (tests and throwaway runs),
 * - `postgres://…` or `postgresql://…` (any libpq-style URL pg accepts, `?options=-c search_path=x` included).
 *
 * Migrations are not applied here; call `migrateToLatest(handle)`.
 *
 * @example
 * const handle = await openDatabase('sqlite:./data/weapp-pay.db');
 * await migrateToLatest(handle);
 * await handle.close();
 */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<DbHandle> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new Error('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/weapp-pay.db');
    return openSqlite(path, options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgres(url, options);
  }
  throw new Error(
    `DATABASE_URL must start with sqlite: or postgres:// (got ${JSON.stringify(redactUrl(url))}); ` +
      'for example sqlite:./data/weapp-pay.db or postgres://user@localhost:5432/weapp',
  );
}

/** A URL fit for an error message or a log line: the password is replaced. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
