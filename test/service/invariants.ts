import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';

/**
 * The money rules every test must leave intact, as SQL: no order credited twice, no
 * transaction_id on two orders, no PAID order without a transaction_id or a source; refunds
 * never above what was paid nor above 50 per order, the order's refunded_fen equal to its
 * refunds not CLOSED, and its state saying whether its SUCCESS refunds cover the amount. Returns the
 * violations found; an empty list means the money rules held.
 */
export async function moneyInvariantViolations(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const doubleCredits = await db
    .selectFrom('order_events')
    .select(['order_id', sql<number>`count(*)`.as('n')])
    .where('type', '=', 'state_changed')
    .where('data', 'like', '%"to":"PAID"%')
    .groupBy('order_id')
    .having(sql`count(*)`, '>', 1)
    .execute();
  for (const row of doubleCredits) problems.push(`order ${row.order_id} was credited ${row.n} times`);

  const sharedTransactions = await db
    .selectFrom('orders')
    .select(['transaction_id', sql<number>`count(*)`.as('n')])
    .where('transaction_id', 'is not', null)
    .groupBy('transaction_id')
    .having(sql`count(*)`, '>', 1)
    .execute();
  for (const row of sharedTransactions)
    problems.push(`transaction ${row.transaction_id} belongs to ${row.n} orders`);

  const unexplained = await db
    .selectFrom('orders')
    .select(['id'])
    .where('status', '=', 'PAID')
    .where((eb) => eb.or([eb('transaction_id', 'is', null), eb('paid_source', 'is', null)]))
    .execute();
  for (const row of unexplained) problems.push(`PAID order ${row.id} has no transaction_id or source`);

  // Refunds: never more than was paid, never more than 50, and the order's ledger is its refunds.
  const overRefunded = await sql<{ id: string; amount: number; refunded: number; n: number; ledger: number }>`
    select o.id, o.amount, o.refunded_fen as ledger,
      coalesce(sum(case when r.status <> 'CLOSED' then r.amount end), 0) as refunded,
      count(r.id) as n
    from orders o left join refunds r on r.order_id = o.id
    group by o.id, o.amount, o.refunded_fen`.execute(db);
  for (const row of overRefunded.rows) {
    const refunded = Number(row.refunded);
    if (refunded > row.amount) problems.push(`order ${row.id} refunds ${refunded} of ${row.amount} paid`);
    if (Number(row.n) > 50) problems.push(`order ${row.id} has ${row.n} refunds (at most 50)`);
    if (refunded !== Number(row.ledger))
      problems.push(`order ${row.id} ledger says ${row.ledger}, refunds say ${refunded}`);
  }
  const succeeded = await sql<{ id: string; status: string; amount: number; ok: number }>`
    select o.id, o.status, o.amount, coalesce(sum(r.amount), 0) as ok
    from orders o join refunds r on r.order_id = o.id and r.status = 'SUCCESS'
    group by o.id, o.status, o.amount`.execute(db);
  for (const row of succeeded.rows) {
    const full = Number(row.ok) === row.amount;
    if (row.status !== (full ? 'REFUNDED' : 'PARTIALLY_REFUNDED'))
      problems.push(`order ${row.id} is ${row.status} with ${row.ok} of ${row.amount} refunded`);
  }
  return problems;
}
