import { createBatcher } from '../orders/batcher.js';
import { batchesInFlight } from './commit-group.js';
import type { Db } from './database.js';
import { dialectOf } from './dialect-of.js';
import { padWithLast, type SizedStatement } from './size-classes.js';

/**
 * A look-up by one key that the requests arriving together share: one `… IN (…)` statement of
 * the batch's size class (compiledPerSizeClass, padded by repeating the last key, so slot i's
 * key is named `i`), each caller answered with the row that has its key. On PostgreSQL it is one
 * round trip for the batch instead of one per request.
 *
 * @example
 * const find = batchedLookUp<OrdersTable>(db, lookUpByOutTradeNo, (row) => row.out_trade_no);
 * const order = await find('OTN1'); // undefined when there is none
 */
export function batchedLookUp<Row>(
  db: Db,
  statement: (db: Db, dialect: string, n: number) => SizedStatement,
  keyOf: (row: Row) => string,
): (key: string) => Promise<Row | undefined> {
  const dialect = dialectOf(db);
  const lookUps = createBatcher<string, Row | undefined>({
    maxConcurrent: batchesInFlight(dialect),
    async run(keys) {
      const padded = padWithLast(keys);
      const { rows } = await db.executeQuery<Row>(statement(db, dialect, keys.length).bind((i) => padded[i]));
      const byKey = new Map(rows.map((row) => [keyOf(row), row]));
      return keys.map((key) => byKey.get(key));
    },
  });
  return (key) => lookUps.submit(key);
}
