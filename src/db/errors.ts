/**
 * Recognises the database's own verdicts, the same way on both dialects, so stores can turn a
 * unique violation into a domain answer ("already recorded", "belongs to another order").
 */

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/**
 * True when `err` is a UNIQUE/PRIMARY KEY violation. With `target`, only when it is on that
 * constraint: a PostgreSQL constraint name (`orders_transaction_id_key`) or an SQLite
 * `table.column` as SQLite words it (`orders.transaction_id`).
 *
 * @example
 * isUniqueViolation(err, { postgres: 'orders_transaction_id_key', sqlite: 'orders.transaction_id' })
 */
export function isUniqueViolation(err: unknown, target?: { postgres: string; sqlite: string }): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as DriverError;
  // PostgreSQL: SQLSTATE 23505 unique_violation, with the constraint name on the error.
  if (e.code === '23505') return target === undefined || e.constraint === target.postgres;
  // better-sqlite3: extended result codes; the message names the columns.
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    if (target === undefined) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    return message.includes(target.sqlite);
  }
  return false;
}

/** True when `err` is a FOREIGN KEY violation (a row that names a row that is not there). */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code } = err as DriverError;
  // PostgreSQL: SQLSTATE 23503 foreign_key_violation; better-sqlite3: its extended result code.
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
