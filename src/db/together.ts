import { CompiledQuery } from 'kysely';
import type { SqlDialect } from './database.js';

/** Texts already combined, by the texts they came from (size-classed statements make few). */
const combined = new Map<string, string>();
const MAX_COMBINED = 256;

/**
 * Statements that a caller runs one after another in one transaction, sent as few times as the
 * database allows:
 *
 * - on PostgreSQL, one statement: each but the last becomes a data-modifying `WITH` part, its
 *   `$n` placeholders renumbered after the ones before it. Every statement sent costs the service
 *   a socket write and a wake-up of the server process, which on a small machine is most of a
 *   statement's CPU;
 * - on SQLite, the statements as given: SQLite has no data-modifying `WITH`, and a statement
 *   there is a function call, not a round trip.
 *
 * Only for statements that do not read what another of them writes: the parts of one PostgreSQL
 * statement all see the database as it was when the statement began (PostgreSQL's documentation,
 * "Data-Modifying Statements in WITH"). Their texts must hold no `$` but their placeholders.
 *
 * @example
 * for (const statement of together(dialect, [insertEvidence(...), insertOrderEvents(...)])) {
 *   await trx.executeQuery(statement);
 * }
 */
export function together(dialect: SqlDialect, statements: readonly CompiledQuery[]): CompiledQuery[] {
  if (dialect !== 'postgres' || statements.length < 2) return [...statements];
  const key = statements.map((s) => s.sql).join('\u0000');
  let text = combined.get(key);
  if (text === undefined) {
    let offset = 0;
    const parts = statements.map((s) => {
      const shift = offset;
      offset += s.parameters.length;
      return shift === 0 ? s.sql : s.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`);
    });
    const last = parts.pop();
    text = `with ${parts.map((part, i) => `part${i} as (${part})`).join(', ')} ${last}`;
    if (combined.size >= MAX_COMBINED) combined.clear();
    combined.set(key, text);
  }
  return [
    CompiledQuery.raw(
      text,
      statements.flatMap((s) => s.parameters),
    ),
  ];
}
