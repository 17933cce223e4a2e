import type { AuditCheck } from '../audit.js';
import { jsonText } from '../sql.js';
import { changesInto } from './events.js';

/**
 * A payment notification answered SUCCESS is one WeChat will never send again, so what it
 * acknowledged must be in the database. The acknowledgement leaves exactly one trace: the
 * `notification_received` event with the payment's transactionId, written in the same commit as
 * the decision (src/orders/notified-payments.ts), and SUCCESS goes out only after that commit.
 * (Refused notifications leave none: a conflict or an amount mismatch rolls it back or never
 * writes it; their evidence is kept, but they were answered FAIL and WeChat will retry.)
 *
 * The commit it shares is the state change into PAID with that transactionId (a credit), or an
 * earlier one with the same transactionId (a duplicate), or, for an order under REVIEW, the
 * payment's evidence kept for the person who decides (a hold). Anything else is a payment
 * acknowledged to WeChat and recorded nowhere: money lost.
 */
export const acknowledgedNotifications: AuditCheck = {
  name: 'acknowledged-notifications-applied',
  description:
    'every acknowledged payment notification has its state change into PAID (or, under REVIEW, its evidence kept)',
  requires: ['payment_evidence'],
  async findings(db) {
    const acknowledged = jsonText(db, 'n.data', 'transactionId');
    const rows = await db
      .selectFrom('order_events as n')
      .innerJoin('orders as o', 'o.id', 'n.order_id')
      .select(['n.order_id', 'o.status', acknowledged.as('transaction_id')])
      .where('n.type', '=', 'notification_received')
      .where(acknowledged, 'is not', null)
      .where((eb) =>
        eb.and([
          eb.not(
            eb.exists(
              eb
                .selectFrom('order_events')
                .select('order_events.id')
                .whereRef('order_events.order_id', '=', 'n.order_id')
                .where((e) => changesInto(db, e, 'PAID'))
                .where(jsonText(db, 'order_events.data', 'transactionId'), '=', acknowledged),
            ),
          ),
          eb.not(
            eb.and([
              eb('o.status', '=', 'REVIEW'),
              eb.exists(
                eb
                  .selectFrom('payment_evidence')
                  .select('payment_evidence.transaction_id')
                  .whereRef('payment_evidence.order_id', '=', 'n.order_id')
                  .where('payment_evidence.transaction_id', '=', acknowledged),
              ),
            ]),
          ),
        ]),
      )
      .groupBy(['n.order_id', 'o.status', acknowledged])
      .execute();
    return rows.map((r) => ({
      id: r.order_id,
      detail: `acknowledged payment ${r.transaction_id} but the order (${r.status}) has no state change into PAID with it`,
    }));
  },
};
