import type { Transaction } from 'kysely';
import type { Database, OrdersTable } from '../db/database.js';
import { caseById, compiledPerSizeClass, padWithLast, range } from '../db/size-classes.js';
import { runTogether } from '../db/together.js';
import { paymentObject } from '../webhooks/objects.js';
import { eventsStatement, type NewEvent, type Outbox } from '../webhooks/outbox.js';
import type { PaymentEvidence } from './decide.js';
import { dispositionFor } from './decide.js';
import type { Order, OrderEvent, OrderStatus } from './order.js';
import { insertOrderEvents, type OrderEventRow, toOrder } from './order-row.js';
import { evidenceRow, insertEvidence, type PaymentRecord, paidChange } from './payment-change.js';

type Tx = Transaction<Database>;

/** A verified notification's payment, with the order as the caller read it before. */
export interface NotifiedPayment {
  seen: Order;
  transactionId: string;
  paidAt: number;
  cashFee: number;
  /** Kept in payment_evidence in this batch's transaction, whatever the order's state. */
  evidence?: PaymentEvidence;
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
  markPaidIn(trx: Tx, id: string, paid: PaymentRecord, now: number): Promise<NotifiedResult>;
  /** Where the batch UPDATE's payment.succeeded events go, in this same transaction. */
  outbox: Outbox;
}

const record = (p: NotifiedPayment): PaymentRecord => ({
  transactionId: p.transactionId,
  paidAt: p.paidAt,
  source: 'notify',
  ...(p.evidence && { evidence: p.evidence }),
});

/** The batch UPDATE for `size` orders (one text per size class; see size-classes.ts). */
const payUpdate = compiledPerSizeClass((trx: Tx, size, slot) =>
  trx
    .updateTable('orders')
    .set({
      status: caseById(size, slot, 'status', 'text'),
      paid_source: caseById(size, slot, 'paid_source', 'text'),
      transaction_id: caseById(size, slot, 'transaction_id', 'text'),
      paid_at: caseById(size, slot, 'paid_at', 'bigint'),
      updated_at: caseById(size, slot, 'updated_at', 'bigint'),
    })
    .where(
      'id',
      'in',
      range(size).map((i) => slot(i, 'id') as unknown as string),
    )
    .where('status', '=', caseById(size, slot, 'seen', 'text'))
    .returningAll()
    .compile(),
);

/**
 * Records a batch of verified notifications in the caller's transaction with a fixed number of
 * statements, however many there are:
 *
 * 1. on PostgreSQL, every order of the batch is locked in id order (two batches never wait on
 *    each other in a cycle);
 * 2. one UPDATE pays every order that was payable when read and still is, naming per order the
 *    status that was read (`WHERE status = CASE id …`), exactly like markPaid's conditional update, with the
 *    columns and event payload of the same paidChange (payment-change.ts);
 * 3. items it did not pay (a second copy in the batch, an order someone moved meanwhile, one
 *    already PAID) go through markPaid's locked read, with its answers and errors;
 * 4. one INSERT writes the outbox's payment.succeeded for every order step 2 paid (step 3's
 *    markPaidIn writes its own), so a paid order's webhook commits or rolls back with the batch;
 * 5. one INSERT keeps the evidence of the payments step 2 applied (step 3 keeps its own);
 * 6. one INSERT writes every 'state_changed' and 'notification_received' event.
 *
 * On PostgreSQL the three INSERTs are sent as one statement (together.ts): with BEGIN and COMMIT,
 * five round trips a batch.
 */
export async function payNotifiedBatch(
  trx: Tx,
  items: NotifiedPayment[],
  deps: NotifiedDeps,
): Promise<NotifiedResult[]> {
  const results: (NotifiedResult | undefined)[] = items.map(() => undefined);
  const events: OrderEventRow[] = [];
  const event = (p: NotifiedPayment, type: OrderEvent, data: object) =>
    events.push({ order_id: p.seen.id, type, data: JSON.stringify(data), created_at: p.now });
  const received = (p: NotifiedPayment, applied: boolean) =>
    event(p, 'notification_received', {
      verified: true,
      applied,
      transactionId: p.transactionId,
      cashFee: p.cashFee,
    });

  const dialect = deps.postgres ? 'postgres' : 'sqlite';
  const ids = [...new Set(items.map((p) => p.seen.id))].sort();
  if (deps.postgres) {
    await trx.selectFrom('orders').select('id').where('id', 'in', ids).orderBy('id').forUpdate().execute();
  }

  // Orders the batch UPDATE may pay: those that decide.ts would credit as read, once each.
  const payable = new Map<string, number>();
  items.forEach((p, i) => {
    const credit = dispositionFor(p.seen.status, p.seen.transactionId, p.transactionId).kind === 'credit';
    if (credit && !payable.has(p.seen.id)) payable.set(p.seen.id, i);
  });
  const first = [...payable.values()].map((i) => items[i]!);
  // paidChange is the single path's definition of PAID; here each column becomes a CASE by id.
  const changes = new Map(first.map((p) => [p.seen.id, paidChange(record(p), p.seen.status, p.now)]));
  const column = (p: NotifiedPayment) => changes.get(p.seen.id)!.columns;
  // Padded to its size class with copies of the last order: a repeated id in `IN (…)` and in the
  // CASE changes nothing (the first branch that matches gives the same values).
  const padded = first.length === 0 ? [] : padWithLast(first);
  const paid: OrdersTable[] =
    first.length === 0
      ? []
      : (
          await trx.executeQuery<OrdersTable>(
            payUpdate(trx, dialect, first.length).bind((i, key) => {
              const p = padded[i]!;
              if (key === 'id') return p.seen.id;
              if (key === 'seen') return p.seen.status;
              return column(p)[key as keyof ReturnType<typeof column>];
            }),
          )
        ).rows;
  const evidence: { p: NotifiedPayment; found: OrderStatus }[] = [];
  const webhooks: Omit<NewEvent, 'livemode'>[] = [];
  for (const row of paid) {
    const i = payable.get(row.id)!;
    const p = items[i]!;
    results[i] = { changed: true, order: toOrder(row), from: p.seen.status };
    event(p, 'state_changed', changes.get(p.seen.id)!.stateChanged);
    received(p, true);
    evidence.push({ p, found: p.seen.status });
    webhooks.push({
      type: 'payment.succeeded',
      object: paymentObject(toOrder(row)),
      now: p.now,
      orderId: row.id,
    });
  }

  for (const [i, p] of items.entries()) {
    if (results[i]) continue;
    results[i] = await deps.markPaidIn(trx, p.seen.id, record(p), p.now);
    received(p, results[i].changed);
  }
  const kept = evidence.flatMap(({ p, found }) =>
    p.evidence ? [evidenceRow(p.seen.id, p.evidence, found, p.now)] : [],
  );
  // Three INSERTs that read nothing the others write: one statement on PostgreSQL (together.ts).
  const inserts = [
    ...(webhooks.length > 0
      ? [
          eventsStatement(
            trx,
            webhooks.map((w) => ({ ...w, livemode: deps.outbox.livemode })),
          ).statement,
        ]
      : []),
    ...(kept.length > 0 ? [insertEvidence(trx, dialect, kept)] : []),
    ...(events.length > 0 ? [insertOrderEvents(trx, dialect, events)] : []),
  ];
  await runTogether(trx, dialect, inserts);
  return results as NotifiedResult[];
}
