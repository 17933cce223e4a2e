import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';

/**
 * `column ->> key` as text, on either dialect. Event payloads are written by JSON.stringify, so
 * reading them as JSON (rather than with LIKE) matches exactly the key, never a lookalike value.
 * A payload that is not JSON makes the statement fail: the check reports an error, never "ok".
 */
export function jsonText(db: Db, column: string, key: string): RawBuilder<string | null> {
  return dialectOf(db) === 'postgres'
    ? sql<string | null>`(cast(${sql.ref(column)} as jsonb) ->> ${sql.lit(key)})`
    : sql<string | null>`json_extract(${sql.ref(column)}, ${sql.lit(`$.${key}`)})`;
}

/** Whether a table exists in the schema the connection works in (search_path on PostgreSQL). */
export async function tableExists(db: Db, table: string): Promise<boolean> {
  const query =
    dialectOf(db) === 'postgres'
      ? sql<{ found: number }>`select 1 as found where to_regclass(cast(${table} as text)) is not null`
      : sql<{ found: number }>`select 1 as found from sqlite_master where type = 'table' and name = ${table}`;
  const { rows } = await query.execute(db);
  return rows.length > 0;
}
