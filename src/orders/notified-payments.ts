import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database, OrdersTable } from '../db/database.js';
import { type Order, type OrderEvent, type OrderStatus, statusesAllowing } from './order.js';
import { toOrder } from './order-row.js';

type Tx = Transaction<Database>;

/** A verified notification's payment, with the order as the caller read it before. */
export interface NotifiedPayment {
  seen: Order;
  transactionId: string;
  paidAt: number;
  cashFee: number;
  now: number;
}

export interface NotifiedResult {
  changed: boolean;
  order: Order;
  /** The status the payment found. */
  from: OrderStatus;
}

export interface NotifiedDeps {
  postgres: boolean;
  /** The store's locked read-and-decide (markPaid's body), for every item the batch UPDATE did not pay. */
  markPaidIn(
    trx: Tx,
    id: string,
    paid: { transactionId: string; paidAt: number; source: 'notify' },
    now: number,
  ): Promise<NotifiedResult>;
}

const PAY_FROM = statusesAllowing('pay');

/** `CASE id WHEN … THEN … END`, one branch per item; CAST so PostgreSQL knows the type of each value. */
function byId(
  items: NotifiedPayment[],
  type: 'text' | 'bigint',
  value: (p: NotifiedPayment) => string | number,
) {
  const branches = items.map((p) => sql`when ${p.seen.id} then cast(${value(p)} as ${sql.raw(type)})`);
  return sql`case id ${sql.join(branches, sql` `)} end` as RawBuilder<never>;
}

/**
 * Records a batch of verified notifications in the caller's transaction with a fixed number of
 * statements, however many there are:
 *
 * 1. on PostgreSQL, every order of the batch is locked in id order (two batches never wait on
 *    each other in a cycle);
 * 2. one UPDATE pays every order that was payable when read and still is, naming per order the
 *    status that was read (`WHERE status = CASE id …`), exactly like markPaid's conditional update;
 * 3. items it did not pay (a second copy in the batch, an order someone moved meanwhile, one
 *    already PAID) go through markPaid's locked read, with its answers and errors;
 * 4. one INSERT writes every 'state_changed' and 'notification_received' event.
 */
export async function payNotifiedBatch(
  trx: Tx,
  items: NotifiedPayment[],
  deps: NotifiedDeps,
): Promise<NotifiedResult[]> {
  const results: (NotifiedResult | undefined)[] = items.map(() => undefined);
  const events: { order_id: string; type: OrderEvent; data: string; created_at: number }[] = [];
  const event = (p: NotifiedPayment, type: OrderEvent, data: object) =>
    events.push({ order_id: p.seen.id, type, data: JSON.stringify(data), created_at: p.now });
  const received = (p: NotifiedPayment, applied: boolean) =>
    event(p, 'notification_received', {
      verified: true,
      applied,
      transactionId: p.transactionId,
      cashFee: p.cashFee,
    });

  const ids = [...new Set(items.map((p) => p.seen.id))].sort();
  if (deps.postgres) {
    await trx.selectFrom('orders').select('id').where('id', 'in', ids).orderBy('id').forUpdate().execute();
  }

  const payable = new Map<string, number>();
  items.forEach((p, i) => {
    if (PAY_FROM.includes(p.seen.status) && !payable.has(p.seen.id)) payable.set(p.seen.id, i);
  });
  const first = [...payable.values()].map((i) => items[i]!);
  const paid: OrdersTable[] =
    first.length === 0
      ? []
      : await trx
          .updateTable('orders')
          .set({
            status: 'PAID',
            paid_source: 'notify',
            transaction_id: byId(first, 'text', (p) => p.transactionId),
            paid_at: byId(first, 'bigint', (p) => p.paidAt),
            updated_at: byId(first, 'bigint', (p) => p.now),
          })
          .where('id', 'in', [...payable.keys()])
          .where(
            'status',
            '=',
            byId(first, 'text', (p) => p.seen.status),
          )
          .returningAll()
          .execute();
  for (const row of paid) {
    const i = payable.get(row.id)!;
    const p = items[i]!;
    const patch = { transactionId: p.transactionId, paidAt: p.paidAt, paidSource: 'notify' };
    results[i] = { changed: true, order: toOrder(row), from: p.seen.status };
    event(p, 'state_changed', { from: p.seen.status, to: 'PAID', ...patch });
    received(p, true);
  }

  for (const [i, p] of items.entries()) {
    if (results[i]) continue;
    const payment = { transactionId: p.transactionId, paidAt: p.paidAt, source: 'notify' as const };
    results[i] = await deps.markPaidIn(trx, p.seen.id, payment, p.now);
    received(p, results[i].changed);
  }
  if (events.length > 0) await trx.insertInto('order_events').values(events).execute();
  return results as NotifiedResult[];
}
