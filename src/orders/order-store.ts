import type { Transaction } from 'kysely';
import { batchedLookUp } from '../db/batched-look-up.js';
import { batchesInFlight, writeTransaction } from '../db/commit-group.js';
import type { Database, Db, OrdersTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { isUniqueViolation } from '../db/errors.js';
import { compiledPerSizeClass, range } from '../db/size-classes.js';
import type { WebhookEventType } from '../webhooks/event-types.js';
import { paymentObject } from '../webhooks/objects.js';
import type { Outbox } from '../webhooks/outbox.js';
import { createBatcher } from './batcher.js';
import type { PaymentEvidence } from './decide.js';
import { dispositionFor } from './decide.js';
import { type NotifiedPayment, type NotifiedResult, payNotifiedBatch } from './notified-payments.js';
import {
  nextStatus,
  ORDER_STATUSES,
  type Order,
  type OrderEvent,
  type OrderStatus,
  type OrderTransition,
  statusesAllowing,
} from './order.js';
import { createOrderCreationWrites } from './order-creation-writes.js';
import { insertOrderEvents, type NewOrder, orderEventRow, toOrder } from './order-row.js';
import {
  OrderNotFoundError,
  OrderStateConflictError,
  TransactionIdConflictError,
} from './order-store-errors.js';
import { evidenceRow, insertEvidence, type PaymentRecord, paidChange } from './payment-change.js';
import { createReconcileClaims } from './reconcile-claims.js';

/** The notification path's look-up of the orders named together (a repeated name pads it to its size class). */
const lookUpByOutTradeNo = compiledPerSizeClass((db: Db, size, slot) =>
  db
    .selectFrom('orders')
    .selectAll()
    .where(
      'out_trade_no',
      'in',
      range(size).map((i) => slot(i, 'out_trade_no') as unknown as string),
    )
    .compile(),
);

export type { NewOrder };

/** The transitions a caller may ask for by name; `pay` goes through markPaid (one way to PAID). */
export type NamedTransition = Exclude<OrderTransition, 'pay'>;

/** What goes with a named transition: the event to log, and evidence to keep in the same commit. */
export interface TransitionDetails {
  event: { type: OrderEvent; data: object };
  /** Set in the same UPDATE (an order query that found the order closed, say). */
  patch?: { lastQueriedAt: number };
  evidence?: PaymentEvidence;
}

export interface StoredOrderEvent {
  id: number;
  type: string;
  data: unknown;
  createdAt: number;
}

export type { PaymentRecord };
export { OrderNotFoundError, OrderStateConflictError, TransactionIdConflictError };

export type OrderStore = ReturnType<typeof createOrderStore>;

type Tx = Transaction<Database>;

/** The webhook each named transition announces; refunds announce themselves (refund-store.ts). */
const WEBHOOK_FOR: Record<NamedTransition, WebhookEventType | undefined> = {
  close: 'payment.closed',
  flag: 'payment.review',
  partial_refund: undefined,
  refund: undefined,
};

const TRANSACTION_ID_KEY = { postgres: 'orders_transaction_id_key', sqlite: 'orders.transaction_id' };

/** A transaction_id already held by another order surfaces as TransactionIdConflictError. */
async function conflictsNamed<T>(id: string, transactionId: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err, TRANSACTION_ID_KEY)) {
      throw new TransactionIdConflictError(id, transactionId, { cause: err });
    }
    throw err;
  }
}

/**
 * Orders and their event log. Every state change is one conditional UPDATE naming the expected
 * old states, in the same transaction as its events; the database has the last word on who won.
 */
export function createOrderStore(db: Db, outbox: Outbox) {
  const dialect = dialectOf(db);
  const postgres = dialect === 'postgres';

  /**
   * Reads the row inside the transaction, locked on PostgreSQL (SQLite's BEGIN IMMEDIATE already
   * holds the write lock), so the `from` recorded in the state_changed event is exact.
   */
  async function lockRow(trx: Tx, id: string): Promise<OrdersTable | undefined> {
    const query = trx.selectFrom('orders').selectAll().where('id', '=', id);
    return (postgres ? query.forUpdate() : query).executeTakeFirst();
  }

  /** One conditional UPDATE: applies only while the row is still in one of `from`. */
  async function changeState(
    trx: Tx,
    id: string,
    from: readonly OrderStatus[],
    columns: Partial<OrdersTable>,
  ) {
    const updated = await trx
      .updateTable('orders')
      .set(columns)
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return updated && toOrder(updated);
  }

  /** Keeps a verified payment's evidence; a repeat of the same transaction_id keeps the first. */
  async function keepEvidence(
    trx: Tx,
    orderId: string,
    evidence: PaymentEvidence,
    found: OrderStatus,
    now: number,
  ) {
    await trx.executeQuery(insertEvidence(trx, dialect, [evidenceRow(orderId, evidence, found, now)]));
  }

  async function insertEvent(trx: Tx | Db, orderId: string, type: OrderEvent, data: object, now: number) {
    await trx.executeQuery(insertOrderEvents(trx, dialect, [orderEventRow(orderId, type, data, now)]));
  }

  /** Runs `work` in a transaction, then wakes the deliverer: its events are committed now. */
  async function committing<T>(work: (trx: Tx) => Promise<T>): Promise<T> {
    const result = await writeTransaction(db, work);
    outbox.committed();
    return result;
  }

  /**
   * The locked read-and-decide behind every payment: the order's state, read under lock, decides
   * (decide.ts, dispositionFor); `pay` is applied with paidChange. Evidence, when given, is kept
   * whatever the decision, in the same transaction.
   */
  async function markPaidIn(
    trx: Tx,
    id: string,
    paid: PaymentRecord,
    now: number,
  ): Promise<{ changed: boolean; order: Order; from: OrderStatus }> {
    const current = await lockRow(trx, id);
    if (!current) throw new OrderNotFoundError(id);
    const from = current.status as OrderStatus;
    const decision = dispositionFor(from, current.transaction_id, paid.transactionId);
    switch (decision.kind) {
      case 'credit': {
        const change = paidChange(paid, from, now);
        const order = await changeState(trx, id, statusesAllowing('pay'), change.columns);
        if (!order) throw new Error(`order ${id} changed while locked`); // the lock makes this impossible
        await insertEvent(trx, id, 'state_changed', change.stateChanged, now);
        await outbox.record(trx, 'payment.succeeded', paymentObject(order), now, { orderId: id });
        if (paid.evidence) await keepEvidence(trx, id, paid.evidence, from, now);
        return { changed: true, order, from };
      }
      case 'duplicate':
      case 'hold':
        if (paid.evidence) await keepEvidence(trx, id, paid.evidence, from, now);
        return { changed: false, order: toOrder(current), from };
      case 'conflict':
        throw new OrderStateConflictError(toOrder(current), paid.transactionId);
      default: {
        const unreachable: never = decision;
        throw new Error(`unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  // The notification path, batched (batcher.ts): one SELECT for the look-ups that arrive together,
  // and one transaction of a few statements for their payments (group commit).
  const concurrency = { maxConcurrent: batchesInFlight(dialect) };
  const notifiedRead = batchedLookUp<OrdersTable>(db, lookUpByOutTradeNo, (row) => row.out_trade_no);
  const notifiedPayments = createBatcher<NotifiedPayment, NotifiedResult>({
    ...concurrency,
    key: (p) => p.seen.id,
    run: (items) => committing((trx) => payNotifiedBatch(trx, items, { postgres, markPaidIn, outbox })),
  });

  const creation = createOrderCreationWrites(db, concurrency);

  return {
    /**
     * Saves a new PENDING order and its 'created' event. Its out_trade_no is fixed from here on.
     * Orders created at the same moment share one transaction (group commit: one fsync on SQLite).
     */
    insert(row: NewOrder, now: number): Promise<Order> {
      return creation.insert(row, now);
    },

    async findById(id: string): Promise<Order | undefined> {
      const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toOrder(row);
    },

    /** The order only if it belongs to `userId`: someone else's order looks exactly like a missing one. */
    async findByIdForUser(id: string, userId: string): Promise<Order | undefined> {
      const row = await db
        .selectFrom('orders')
        .selectAll()
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row && toOrder(row);
    },

    async findByOutTradeNo(outTradeNo: string): Promise<Order | undefined> {
      const row = await db
        .selectFrom('orders')
        .selectAll()
        .where('out_trade_no', '=', outTradeNo)
        .executeTakeFirst();
      return row && toOrder(row);
    },

    /**
     * Stores the unifiedorder fields once. Later calls change nothing, so every retry (after
     * SYSTEMERROR, a timeout or a crash) must re-read `order.prepayRequest` and send exactly that.
     */
    async savePrepayRequest(id: string, fields: Record<string, string>, now: number): Promise<void> {
      await db
        .updateTable('orders')
        .set({ prepay_request: JSON.stringify(fields), updated_at: now })
        .where('id', '=', id)
        .where('prepay_request', 'is', null)
        .execute();
    },

    /** Records the prepay_id (and a 'prepaid' event), grouped like {@link insert}. */
    savePrepay(
      id: string,
      prepay: { prepayId: string; prepayExpiresAt: number },
      now: number,
    ): Promise<Order> {
      return creation.savePrepay(id, prepay, now);
    },

    /**
     * Applies a named transition (the table in order.ts gives its allowed old states and its new
     * one), with `event` and a 'state_changed' event, in one transaction; evidence, if given, is
     * kept in that transaction whether or not the state moves. `undefined` when the order is
     * missing or in a state the transition does not start from (someone else won).
     */
    async transition(
      id: string,
      name: NamedTransition,
      details: TransitionDetails,
      now: number,
    ): Promise<Order | undefined> {
      return committing(async (trx) => {
        const current = await lockRow(trx, id);
        if (!current) return undefined;
        const from = current.status as OrderStatus;
        if (details.evidence) await keepEvidence(trx, id, details.evidence, from, now);
        const to = nextStatus(from, name);
        if (to === undefined) return undefined;
        const patch = details.patch;
        const columns = {
          status: to,
          updated_at: now,
          ...(patch && { last_queried_at: patch.lastQueriedAt }),
        };
        const order = await changeState(trx, id, statusesAllowing(name), columns);
        if (!order) return undefined;
        await insertEvent(trx, id, details.event.type, details.event.data, now);
        await insertEvent(trx, id, 'state_changed', { from, to, ...patch }, now);
        const webhook = WEBHOOK_FOR[name];
        if (webhook) await outbox.record(trx, webhook, paymentObject(order), now, { orderId: id });
        return order;
      });
    },

    /**
     * Records a confirmed payment: the only way an order becomes PAID. `changed: true` exactly
     * once per order, however many notifications and queries race; a repeat of the same
     * transaction_id is `changed: false`, as is a payment for an order under REVIEW (a person
     * decides). Its evidence is kept in every one of those cases. Throws
     * TransactionIdConflictError if the transaction_id belongs to another order, and
     * OrderStateConflictError if this order was paid by a different transaction.
     */
    async markPaid(
      id: string,
      paid: PaymentRecord,
      now: number,
    ): Promise<{ changed: boolean; order: Order }> {
      return conflictsNamed(id, paid.transactionId, () =>
        committing((trx) => markPaidIn(trx, id, paid, now)),
      );
    },

    /**
     * Keeps the evidence of a payment the store refused (a conflict), in a transaction of its own
     * since the refused one rolled back: a second real payment must not be lost either.
     */
    async keepEvidence(orderId: string, evidence: PaymentEvidence, now: number): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const current = await lockRow(trx, orderId);
        if (current) await keepEvidence(trx, orderId, evidence, current.status as OrderStatus, now);
      });
    },

    /** Every verified payment kept for the order, oldest first (audit). */
    async evidenceFor(orderId: string) {
      return db
        .selectFrom('payment_evidence')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('received_at')
        .orderBy('transaction_id')
        .execute();
    },

    /**
     * findByOutTradeNo for the notification path: look-ups that arrive together share one
     * SELECT … WHERE out_trade_no IN (…).
     */
    async findForNotification(outTradeNo: string): Promise<Order | undefined> {
      const row = await notifiedRead(outTradeNo);
      return row && toOrder(row);
    },

    /**
     * markPaid from a verified notification, with its 'notification_received' event. Payments
     * that arrive together share one transaction of a few statements (notified-payments.ts), and
     * each resolves once that transaction has committed (durable). `seen` is the order as the
     * caller read it; `from` is the status the payment found. Same results and errors as markPaid.
     */
    async markPaidFromNotification(
      seen: Order,
      paid: { transactionId: string; paidAt: number; cashFee: number; evidence?: PaymentEvidence },
      now: number,
    ): Promise<NotifiedResult> {
      return conflictsNamed(seen.id, paid.transactionId, () =>
        notifiedPayments.submit({ seen, ...paid, now }),
      );
    },

    async addEvent(orderId: string, type: OrderEvent, data: object, now: number): Promise<void> {
      await insertEvent(db, orderId, type, data, now);
    },

    /** The order's events, oldest first. */
    async events(orderId: string): Promise<StoredOrderEvent[]> {
      const rows = await db
        .selectFrom('order_events')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ id: r.id, type: r.type, data: JSON.parse(r.data), createdAt: r.created_at }));
    },

    ...createReconcileClaims(db),

    /** Orders per state, every state present (zero when none), for /metrics. */
    async countByStatus(): Promise<Record<OrderStatus, number>> {
      const rows = await db
        .selectFrom('orders')
        .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
      for (const row of rows) counts[row.status as OrderStatus] = Number(row.n);
      return counts;
    },
  };
}
