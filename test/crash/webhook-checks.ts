/**
 * The webhook rules, checked after the last restart when the run had a receiver: what the
 * receiver got (webhook-receiver.ts) against the outbox and the orders in the database. A kill
 * between a payment's commit and its delivery must neither lose the event nor send one for a
 * change that never committed.
 */
import type { Db } from '../../src/db/database.js';
import { type Check, CREDITED, type LocalOrder } from './checks.js';
import type { ReceivedWebhook } from './webhook-receiver.js';

export interface OutboxEvent {
  id: string;
  type: string;
  orderId: string | null;
  body: string;
}

export interface WebhookFacts {
  received: ReceivedWebhook[];
  outbox: OutboxEvent[];
}

export async function readOutbox(db: Db): Promise<OutboxEvent[]> {
  const rows = await db.selectFrom('webhook_events').select(['id', 'type', 'order_id', 'body']).execute();
  return rows.map((r) => ({ id: r.id, type: r.type, orderId: r.order_id, body: r.body }));
}

/** The payment.succeeded events the outbox holds for each order. */
function succeededByOrder(outbox: OutboxEvent[]): Map<string, OutboxEvent[]> {
  const byOrder = new Map<string, OutboxEvent[]>();
  for (const e of outbox) {
    if (e.type !== 'payment.succeeded' || e.orderId === null) continue;
    byOrder.set(e.orderId, [...(byOrder.get(e.orderId) ?? []), e]);
  }
  return byOrder;
}

/** The paid orders whose payment.succeeded event the receiver has not yet had, verified. */
export function undelivered<O extends Pick<LocalOrder, 'id' | 'status'>>(
  orders: Iterable<O>,
  facts: WebhookFacts,
): O[] {
  const byOrder = succeededByOrder(facts.outbox);
  const got = new Set(facts.received.filter((r) => r.verified).map((r) => r.id));
  return [...orders].filter(
    (o) => CREDITED.has(o.status) && !(byOrder.get(o.id) ?? []).some((e) => got.has(e.id)),
  );
}

/** Every paid order has exactly one payment.succeeded in the outbox, and the receiver got it. */
const paidOrdersWereAnnounced: Check = ({ orders, webhooks }) => {
  if (!webhooks) return [];
  const byOrder = succeededByOrder(webhooks.outbox);
  const got = new Set(webhooks.received.map((r) => r.id));
  return [...orders.values()]
    .filter((o) => CREDITED.has(o.status))
    .flatMap((o) => {
      const events = byOrder.get(o.id) ?? [];
      if (events.length !== 1)
        return [`${o.status} order ${o.outTradeNo} has ${events.length} payment.succeeded events`];
      const id = (events[0] as OutboxEvent).id;
      return got.has(id) ? [] : [`payment.succeeded ${id} of ${o.outTradeNo} never reached the receiver`];
    });
};

/**
 * Every event received is one the outbox holds, byte for byte (no event for a change that did
 * not commit), and a payment.succeeded names an order that is paid here.
 */
const receivedEventsCommitted: Check = ({ byOutTradeNo, webhooks }) => {
  if (!webhooks) return [];
  const outbox = new Map(webhooks.outbox.map((e) => [e.id, e]));
  return webhooks.received.flatMap((r) => {
    const stored = outbox.get(r.id);
    if (!stored) return [`the receiver got event ${r.id || '(no id)'} (${r.type}), which no commit wrote`];
    if (stored.body !== r.body) return [`event ${r.id} arrived with a body other than the one written`];
    if (r.type !== 'payment.succeeded') return [];
    const status = byOutTradeNo.get(r.outTradeNo ?? '')?.status ?? 'missing';
    return CREDITED.has(status)
      ? []
      : [`payment.succeeded ${r.id} names ${r.outTradeNo}, which is ${status}`];
  });
};

/** Every POST carried a signature the receiver could verify with the shared secret. */
const receivedBodiesVerified: Check = ({ webhooks }) =>
  (webhooks?.received ?? [])
    .filter((r) => !r.verified)
    .map((r) => `event ${r.id || '(no id)'} (${r.type}) arrived with a signature that does not verify`);

export const WEBHOOK_CHECKS: readonly Check[] = [
  paidOrdersWereAnnounced,
  receivedEventsCommitted,
  receivedBodiesVerified,
];
