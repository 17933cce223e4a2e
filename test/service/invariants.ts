import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';

/**
 * The money rules every test must leave intact, as SQL: no order credited twice, no
 * transaction_id on two orders, no PAID order without a transaction_id or a source. Returns the
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
  return problems;
}
