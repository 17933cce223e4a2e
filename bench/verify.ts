/**
 * After a notification run, the database must show what the issue demands: every order whose
 * notification was acknowledged is PAID, exactly once, with the transaction it was told about.
 */
import { sql } from 'kysely';
import type { DbHandle } from '../src/db/open.js';
import type { PreparedOrder } from './prepare.js';

export interface CreditCheck {
  ok: boolean;
  /** Orders whose notification got SUCCESS at least once. */
  acknowledged: number;
  paid: number;
  /** Orders with more than one state change, or PAID by another transaction_id. */
  doubleCredits: number;
  /** Acknowledged orders that are not PAID: a SUCCESS that was a lie. */
  lostCredits: number;
  summary: string;
}

const CHUNK = 500;

export async function checkCredits(
  handle: DbHandle,
  orders: readonly PreparedOrder[],
  acknowledged: ReadonlySet<number>,
): Promise<CreditCheck> {
  const { db } = handle;
  // One state change per order in the whole table, whoever caused it.
  const repeated = await db
    .selectFrom('order_events')
    .select(['order_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('type', '=', 'state_changed')
    .groupBy('order_id')
    .having(sql`count(*)`, '>', 1)
    .execute();
  const duplicateTransactions = await db
    .selectFrom('orders')
    .select(['transaction_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('transaction_id', 'is not', null)
    .groupBy('transaction_id')
    .having(sql`count(*)`, '>', 1)
    .execute();

  const rows = new Map<string, { status: string; transaction_id: string | null; changes: number }>();
  for (let start = 0; start < orders.length; start += CHUNK) {
    const ids = orders.slice(start, start + CHUNK).map((o) => o.id);
    const found = await db
      .selectFrom('orders')
      .select(['id', 'status', 'transaction_id'])
      .select((eb) =>
        eb
          .selectFrom('order_events')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('order_events.order_id', '=', 'orders.id')
          .where('order_events.type', '=', 'state_changed')
          .as('changes'),
      )
      .where('id', 'in', ids)
      .execute();
    for (const r of found) rows.set(r.id, { ...r, changes: Number(r.changes ?? 0) });
  }

  let paid = 0;
  let wrongTransaction = 0;
  let lostCredits = 0;
  orders.forEach((order, index) => {
    const row = rows.get(order.id);
    const isPaid = row?.status === 'PAID' && row.changes === 1;
    if (row?.status === 'PAID') {
      paid++;
      if (row.transaction_id !== order.transactionId) wrongTransaction++;
    }
    if (acknowledged.has(index) && !isPaid) lostCredits++;
  });
  const doubleCredits = repeated.length + duplicateTransactions.length + wrongTransaction;
  // PAID without an acknowledgement is fine: requests in flight when the load stopped.
  const ok = doubleCredits === 0 && lostCredits === 0;
  return {
    ok,
    acknowledged: acknowledged.size,
    paid,
    doubleCredits,
    lostCredits,
    summary:
      `${paid} PAID / ${acknowledged.size} acknowledged, ${doubleCredits} double credits, ` +
      `${lostCredits} acknowledged but not PAID exactly once`,
  };
}
