import { type Kysely, PostgresAdapter, SqliteAdapter } from 'kysely';
import type { SqlDialect } from './database.js';

/**
 * Which SQL dialect a Kysely instance (or a transaction of one) speaks. Stores need it for the
 * few statements the dialects do not share, such as `FOR UPDATE SKIP LOCKED`, which SQLite lacks
 * and does not need: its BEGIN IMMEDIATE already serialises writers.
 */
export function dialectOf<T>(db: Kysely<T>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return 'postgres';
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  throw new Error(`unsupported Kysely adapter ${adapter.constructor.name}: expected SQLite or PostgreSQL`);
}
