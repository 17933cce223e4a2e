/**
 * A database holding an order in every state the service writes, each written through the real
 * stores (the same writes a running service makes): the clean baseline `weapp-pay audit` must
 * pass, and the rows its tests then corrupt one at a time.
 */
import type { Db } from '../../src/db/database.js';
import { createAnomalyStore } from '../../src/orders/anomaly-store.js';
import type { PaymentEvidence } from '../../src/orders/decide.js';
import type { Order } from '../../src/orders/order.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';

export const T0 = Date.UTC(2024, 0, 1);

export interface Seeded {
  pending: Order;
  /** Paid by a notification, then notified again (a duplicate acknowledged). */
  notified: Order;
  /** Paid by our own order query. */
  queried: Order;
  closed: Order;
  /** Flagged for an amount mismatch, then sent a correct payment it holds (acknowledged, not applied). */
  review: Order;
  /** Transaction ids by order id. */
  transactions: Record<string, string>;
}

function evidence(order: Order, transactionId: string, source: PaymentEvidence['source']): PaymentEvidence {
  return {
    source,
    outTradeNo: order.outTradeNo,
    transactionId,
    totalFee: order.amount,
    currency: 'CNY',
    appid: 'wx1234567890abcdef',
    mchId: '1900000109',
    paidAt: T0 + 5,
    cashFee: order.amount,
    raw: { transaction_id: transactionId, time_end: '20240101080005' },
  };
}

export async function seedEveryState(db: Db): Promise<Seeded> {
  const orders = createOrderStore(db, createOutbox({ livemode: false }));
  const anomalies = createAnomalyStore(db, createOutbox({ livemode: false }));
  const user = await createUserStore(db).upsertByOpenid({ openid: 'o-audit', unionid: null }, T0);
  let serial = 0;
  const newOrder = () => {
    serial += 1;
    return orders.insert(
      {
        id: `audit-${serial}`,
        userId: user.id,
        openid: 'o-audit',
        outTradeNo: `AUDIT${serial}`,
        sku: 'tea',
        quantity: 1,
        description: '乌龙茶',
        amount: 100,
        currency: 'CNY',
        expiresAt: T0 + 7_200_000,
      },
      T0,
    );
  };
  const transactions: Record<string, string> = {};
  const txn = (order: Order) => {
    transactions[order.id] = `4200000000${String(serial).padStart(18, '0')}${order.id.length}`;
    return transactions[order.id]!;
  };
  const notify = async (order: Order, transactionId: string, now: number) => {
    const seen = (await orders.findById(order.id))!;
    const proof = evidence(seen, transactionId, 'notification');
    return orders.markPaidFromNotification(
      seen,
      { transactionId, paidAt: T0 + 5, cashFee: 100, evidence: proof },
      now,
    );
  };

  const pending = await newOrder();

  const notified = await newOrder();
  await notify(notified, txn(notified), T0 + 10);
  await notify(notified, transactions[notified.id]!, T0 + 11);

  const queried = await newOrder();
  const queriedTxn = txn(queried);
  await orders.markPaid(
    queried.id,
    {
      transactionId: queriedTxn,
      paidAt: T0 + 5,
      source: 'query',
      evidence: evidence(queried, queriedTxn, 'query'),
    },
    T0 + 12,
  );

  const closed = await newOrder();
  await orders.transition(
    closed.id,
    'close',
    { event: { type: 'state_changed', data: { reason: 'closed' } } },
    T0 + 13,
  );

  // As notify-service.ts does for an amount mismatch: the anomaly first, then the flag.
  const review = await newOrder();
  await anomalies.record(
    { kind: 'notify_amount_mismatch', ref: `mismatch-${review.id}`, orderId: review.id, data: {} },
    T0 + 14,
  );
  await orders.transition(
    review.id,
    'flag',
    { event: { type: 'anomaly', data: { kind: 'amount_mismatch' } } },
    T0 + 14,
  );
  await notify(review, txn(review), T0 + 15);

  const reread = async (o: Order) => (await orders.findById(o.id))!;
  return {
    pending: await reread(pending),
    notified: await reread(notified),
    queried: await reread(queried),
    closed: await reread(closed),
    review: await reread(review),
    transactions,
  };
}
