import type { Db } from '../db/database.js';
import { paymentObject } from '../webhooks/objects.js';
import type { Outbox } from '../webhooks/outbox.js';
import type { AnomalyKind } from './decide.js';
import { toOrder } from './order-row.js';

export interface Anomaly {
  id: number;
  kind: AnomalyKind;
  ref: string;
  orderId: string | null;
  data: unknown;
  createdAt: number;
}

export type AnomalyStore = ReturnType<typeof createAnomalyStore>;

/**
 * Anomalies about a payment that leave the order's state as it is, yet need the shop to look:
 * a second payment for one order, a payment after a local close. Each announces payment.review
 * (an amount mismatch announces it through the order's move to REVIEW instead, order-store.ts).
 */
const REVIEW_WITHOUT_TRANSITION: ReadonlySet<AnomalyKind> = new Set([
  'transaction_conflict',
  'paid_after_close',
]);

/**
 * Things a person must look at (an amount mismatch, a payment after a local close). WeChat
 * retries a notification up to 15 times and several servers may send it at once, so the same
 * anomaly arrives many times: UNIQUE (kind, ref) keeps one record however often it is reported.
 */
export function createAnomalyStore(db: Db, outbox: Outbox) {
  return {
    /** True when this (kind, ref) is new; a repeat is ignored and keeps the first record's data. */
    async record(
      a: { kind: AnomalyKind; ref: string; orderId?: string; data: object },
      now: number,
    ): Promise<boolean> {
      const announced = a.orderId !== undefined && REVIEW_WITHOUT_TRANSITION.has(a.kind);
      const isNew = await db.transaction().execute(async (trx) => {
        const result = await trx
          .insertInto('anomalies')
          .values({
            kind: a.kind,
            ref: a.ref,
            order_id: a.orderId ?? null,
            data: JSON.stringify(a.data),
            created_at: now,
          })
          .onConflict((oc) => oc.columns(['kind', 'ref']).doNothing())
          .executeTakeFirst();
        const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
        if (inserted && announced) {
          const order = await trx
            .selectFrom('orders')
            .selectAll()
            .where('id', '=', a.orderId!)
            .executeTakeFirst();
          if (order)
            await outbox.record(trx, 'payment.review', paymentObject(toOrder(order)), now, {
              orderId: order.id,
            });
        }
        return inserted;
      });
      if (isNew && announced) outbox.committed();
      return isNew;
    },

    /** Every anomaly, oldest first. */
    async list(): Promise<Anomaly[]> {
      const rows = await db.selectFrom('anomalies').selectAll().orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind as AnomalyKind,
        ref: r.ref,
        orderId: r.order_id,
        data: JSON.parse(r.data),
        createdAt: r.created_at,
      }));
    },
  };
}
