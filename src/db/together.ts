import { CompiledQuery, type Kysely } from 'kysely';
import type { Database, SqlDialect } from './database.js';

/**
 * Texts already combined, found by the texts they came from one at a time (a map per position).
 * The texts are the size classes' own strings, whose hashes V8 keeps, so a look-up costs a few
 * map reads; a key joined from them would be tens of KB to hash on every batch. Size classes
 * make few combinations.
 */
interface Combined {
  text?: string;
  next: Map<string, Combined>;
}
const combined: Combined = { next: new Map() };

function combinedNode(rowsOf: number, statements: readonly CompiledQuery[]): Combined {
  let node = combined;
  for (const key of [String(rowsOf), ...statements.map((s) => s.sql)]) {
    let next = node.next.get(key);
    if (!next) {
      next = { next: new Map() };
      node.next.set(key, next);
    }
    node = next;
  }
  return node;
}

/**
 * Statements that a caller runs one after another in one transaction, sent as few times as the
 * database allows:
 *
 * - on PostgreSQL, one statement: each becomes a data-modifying `WITH` part, its `$n`
 *   placeholders renumbered after the ones before it, except the one whose rows the caller wants
 *   (`rowsOf`, the last by default), which is the main statement when it is last, and is read
 *   with `select * from partN` when it is not (it must then have RETURNING). Every statement sent
 *   costs the service a socket write and a wake-up of the server process, which on a small
 *   machine is most of a statement's CPU;
 * - on SQLite, the statements as given: SQLite has no data-modifying `WITH`, and a statement
 *   there is a function call, not a round trip.
 *
 * Only for statements that do not read what another of them writes: the parts of one PostgreSQL
 * statement all see the database as it was when the statement began (PostgreSQL's documentation,
 * "Data-Modifying Statements in WITH"). Their texts must hold no `$` but their placeholders.
 *
 * @example
 * // One statement on PostgreSQL, two on SQLite; the rows are the orders'.
 * const orders = await runTogether<OrdersTable>(trx, dialect, [insertOrders(...), insertOrderEvents(...)], 0);
 */
export function together(
  dialect: SqlDialect,
  statements: readonly CompiledQuery[],
  rowsOf = statements.length - 1,
): CompiledQuery[] {
  if (dialect !== 'postgres' || statements.length < 2) return [...statements];
  const node = combinedNode(rowsOf, statements);
  let text = node.text;
  if (text === undefined) {
    let offset = 0;
    const parts = statements.map((s) => {
      const shift = offset;
      offset += s.parameters.length;
      return shift === 0 ? s.sql : s.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`);
    });
    const main = rowsOf === parts.length - 1 ? parts.pop() : `select * from part${rowsOf}`;
    text = `with ${parts.map((part, i) => `part${i} as (${part})`).join(', ')} ${main}`;
    node.text = text;
  }
  return [
    CompiledQuery.raw(
      text,
      statements.flatMap((s) => s.parameters),
    ),
  ];
}

/**
 * Runs `statements` in order, {@link together} on PostgreSQL, and returns the rows of the one at
 * index `rowsOf` (the last by default). On SQLite the order matters: foreign keys are checked at
 * the end of each statement there, and at the end of the whole statement on PostgreSQL.
 */
export async function runTogether<R>(
  trx: Pick<Kysely<Database>, 'executeQuery'>,
  dialect: SqlDialect,
  statements: readonly CompiledQuery[],
  rowsOf = statements.length - 1,
): Promise<R[]> {
  const sent = together(dialect, statements, rowsOf);
  let rows: R[] = [];
  for (const [i, statement] of sent.entries()) {
    const result = await trx.executeQuery<R>(statement);
    if (sent.length === 1 || i === rowsOf) rows = [...result.rows];
  }
  return rows;
}
