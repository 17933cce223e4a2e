import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { AuditCheck, Finding } from '../audit.js';
import { jsonText } from '../sql.js';

/** The webhook each order state announces when an order moves into it (src/orders/order-store.ts). */
const ANNOUNCED_STATES: Readonly<Record<string, string>> = {
  PAID: 'payment.succeeded',
  CLOSED: 'payment.closed',
  REVIEW: 'payment.review',
};

/** Anomalies about a payment that announce payment.review without a state change (anomaly-store.ts). */
const REVIEW_ANOMALIES = ['transaction_conflict', 'paid_after_close'];

const since = (column: 'order_event_id' | 'anomaly_id') =>
  sql<number>`(select ${sql.ref(column)} from webhook_outbox_start)`;

/** `count(*)` of webhook events of `type` about the order in `orderColumn`. */
function eventsAbout(orderColumn: string, type: RawBuilder<string | null> | string) {
  return sql<number>`(select count(*) from webhook_events w
    where w.order_id = ${sql.ref(orderColumn)} and w.type = ${type})`;
}

/**
 * The outbox holds an event for every change a webhook announces, and only for changes that
 * happened: each move of an order into PAID, CLOSED or REVIEW has its payment.* event, each
 * settled refund its refund.succeeded or refund.failed, each payment anomaly its payment.review;
 * and no payment.succeeded exists for an order that never became PAID. Changes made before the
 * outbox existed (before migration 0008_webhooks) are not asked about.
 */
export const outboxEvents: AuditCheck = {
  name: 'outbox-events',
  description:
    'every state change has its outbox event for the merchant webhooks, and every event its change',
  requires: ['webhook_events', 'webhook_outbox_start'],
  async findings(db: Db) {
    const to = jsonText(db, 'e.data', 'to');
    const announced = sql.join(Object.keys(ANNOUNCED_STATES).map((s) => sql.lit(s)));
    const expectedType = sql<string>`case ${to} ${sql.join(
      Object.entries(ANNOUNCED_STATES).map(
        ([state, type]) => sql`when ${sql.lit(state)} then ${sql.lit(type)}`,
      ),
      sql` `,
    )} end`;
    // An order moves into each of these states once at most (single-credit and the transition
    // table see to that), so one event per (order, state) is what each move needs.
    const moves = await sql<{ order_id: string; to: string }>`
      select distinct e.order_id, ${to} as "to"
      from order_events e
      where e.type = 'state_changed' and e.id > ${since('order_event_id')} and ${to} in (${announced})
        and ${eventsAbout('e.order_id', expectedType)} = 0`.execute(db);
    const findings: Finding[] = moves.rows.map((m) => ({
      id: m.order_id,
      detail: `moved to ${m.to} without its ${ANNOUNCED_STATES[m.to]} event`,
    }));

    const status = jsonText(db, 'e.data', 'status');
    const refunds = await sql<{ order_id: string; refund_id: string; status: string }>`
      select e.order_id, r.id as refund_id, r.status
      from order_events e join refunds r on r.out_refund_no = ${jsonText(db, 'e.data', 'outRefundNo')}
      where e.type = 'refund_settled' and e.id > ${since('order_event_id')}
        and not exists (select 1 from webhook_events w where w.refund_id = r.id
          and w.type = case when ${status} = 'SUCCESS' then 'refund.succeeded' else 'refund.failed' end)`.execute(
      db,
    );
    for (const r of refunds.rows) {
      findings.push({
        id: r.order_id,
        detail: `refund ${r.refund_id} settled ${r.status} without its webhook event`,
      });
    }

    const anomalies = await sql<{ order_id: string; kind: string }>`
      select a.order_id, a.kind from anomalies a
      where a.id > ${since('anomaly_id')} and a.order_id is not null
        and a.kind in (${sql.join(REVIEW_ANOMALIES.map((k) => sql.lit(k)))})
        and ${eventsAbout('a.order_id', 'payment.review')} = 0`.execute(db);
    for (const a of anomalies.rows) {
      findings.push({ id: a.order_id, detail: `anomaly ${a.kind} without its payment.review event` });
    }

    const unbacked = await sql<{ order_id: string; id: string }>`
      select w.order_id, w.id from webhook_events w
      where w.type = 'payment.succeeded' and not exists (select 1 from order_events e
        where e.order_id = w.order_id and e.type = 'state_changed' and ${jsonText(db, 'e.data', 'to')} = 'PAID')`.execute(
      db,
    );
    for (const w of unbacked.rows) {
      findings.push({
        id: w.order_id ?? w.id,
        detail: `event ${w.id} announces a payment the order never recorded`,
      });
    }
    return findings;
  },
};
