import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Database as Schema } from './database.js';
import type { DbHandle, OpenOptions } from './open.js';
import { createQueryLog } from './query-log.js';
import { ImmediateSqliteDialect } from './sqlite-dialect.js';
import { withStatementCache } from './statement-cache.js';

/** How long a writer waits for another process's write lock before SQLite gives up. */
const BUSY_TIMEOUT_MS = 5000;

interface SharedFile {
  handle: DbHandle;
  refs: number;
}

/**
 * One connection per file per process. better-sqlite3 is synchronous: if a second connection in
 * the same process waited in busy_timeout for the first one's transaction, it would block the
 * event loop that the first one needs to commit, and both would stall until SQLITE_BUSY. Handles
 * on the same file therefore share one Kysely instance, whose driver already serialises access.
 */
const openFiles = new Map<string, SharedFile>();

export async function openSqlite(path: string, options: OpenOptions): Promise<DbHandle> {
  if (path === ':memory:') return createHandle(path, options, () => {});
  const file = resolve(path);
  const shared = openFiles.get(file);
  if (shared) {
    shared.refs += 1;
    return { ...shared.handle, close: onceClose(() => releaseShared(file)) };
  }
  mkdirSync(dirname(file), { recursive: true });
  const handle = createHandle(file, options, () => openFiles.delete(file));
  openFiles.set(file, { handle, refs: 1 });
  return { ...handle, close: onceClose(() => releaseShared(file)) };
}

async function releaseShared(file: string): Promise<void> {
  const shared = openFiles.get(file);
  if (!shared) return;
  shared.refs -= 1;
  if (shared.refs === 0) await shared.handle.close();
}

function createHandle(file: string, options: OpenOptions, onClose: () => void): DbHandle {
  const sqlite = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  if (file !== ':memory:') {
    // WAL: readers never block the writer. FULL: a commit is on disk before we reply, because a
    // notification acknowledged to WeChat is never sent again.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
  }
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  // A negative cache_size is in KiB. SQLite allocates pages only as they are read, so a large
  // cache costs memory only once the database is larger than better-sqlite3's default 16 MB.
  if (options.sqliteCacheMb !== undefined) {
    sqlite.pragma(`cache_size = ${-Math.round(options.sqliteCacheMb * 1024)}`);
  }
  const log = createQueryLog(options.log);
  const db = new Kysely<Schema>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }),
    ...(log ? { log } : {}),
  });
  return {
    db,
    dialect: 'sqlite',
    close: onceClose(async () => {
      onClose();
      await db.destroy();
      // Kysely closes the file only if it ever ran a query.
      if (sqlite.open) sqlite.close();
    }),
  };
}

function onceClose(close: () => Promise<void> | void): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= Promise.resolve().then(close);
    return closing;
  };
}
