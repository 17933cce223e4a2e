/**
 * The plan SQLite chooses for each statement the service ran, asked of the large database the
 * growth scenario measured against. A `SCAN` of a table (rather than a `SEARCH` through an
 * index) is what makes a request's cost grow with the number of rows, so those are reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface PlannedStatement {
  /** The SQL with runs of `?` placeholders shortened, so batches of any size count once. */
  sql: string;
  plan: string[];
  /** Plan lines that read a whole table or index. */
  scans: string[];
}

/** Tables that stay a handful of rows whatever the traffic: scanning them costs nothing. */
const SMALL_TABLES = ['kysely_migration', 'kysely_migration_lock', 'sqlite_master', 'sqlite_schema'];

export function shortenPlaceholders(sql: string): string {
  return sql.replace(/\?(?:\s*,\s*\?)+/g, '?, …').replace(/(\(\?, …\)(?:\s*,\s*)?){2,}/g, '(?, …), …');
}

/** Plans of the statements recorded by bench/sql-capture.mjs in `captureFile`, against `dbFile`. */
export function explainCaptured(dbFile: string, captureFile: string): PlannedStatement[] {
  if (!existsSync(captureFile)) return [];
  const captured = JSON.parse(readFileSync(captureFile, 'utf8')) as string[];
  const bySql = new Map<string, string>();
  for (const sql of captured) {
    if (!/^\s*(select|insert|update|delete|with)\b/i.test(sql)) continue;
    const short = shortenPlaceholders(sql);
    if (!bySql.has(short)) bySql.set(short, sql);
  }
  const db = new Database(dbFile, { readonly: true });
  try {
    const tables = new Set(
      (db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[])
        .map((t) => t.name)
        .filter((name) => !SMALL_TABLES.includes(name)),
    );
    return [...bySql].map(([short, sql]) => {
      // The plan does not depend on the values (Kysely inlines none): every parameter is NULL.
      const params = (sql.match(/\?/g) ?? []).map(() => null);
      const rows = db.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
      const plan = rows.map((r) => r.detail);
      // Not a VALUES list, a CTE or a table-valued function: a table of the schema, read whole.
      const scans = plan.filter((line) => tables.has(/^SCAN "?(\w+)/.exec(line)?.[1] ?? ''));
      return { sql: short, plan, scans };
    });
  } finally {
    db.close();
  }
}
