import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * Kysely's SQLite driver prepares every query afresh; better-sqlite3's `prepare` compiles the
 * SQL each time, which the benchmark profile put at ~5 % of the notification path (+~20 %
 * throughput when cached, docs/performance.md). Statements are reusable, so this keeps the most
 * recently used ones by SQL text.
 *
 * A statement that is mid-iteration (`busy`) is never handed out twice: a fresh one is prepared.
 *
 * @example
 * new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
 */
export function withStatementCache(sqlite: BetterSqlite3.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        // Move to the back: the Map's order is the eviction order.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const statement = sqlite.prepare(sql);
      cache.set(sql, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return statement;
    },
  };
}
