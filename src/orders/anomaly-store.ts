import type { Db } from '../db/database.js';
import type { AnomalyKind } from './decide.js';

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
 * Things a person must look at (an amount mismatch, a payment after a local close). WeChat
 * retries a notification up to 15 times and several servers may send it at once, so the same
 * anomaly arrives many times: UNIQUE (kind, ref) keeps one record however often it is reported.
 */
export function createAnomalyStore(db: Db) {
  return {
    /** True when this (kind, ref) is new; a repeat is ignored and keeps the first record's data. */
    async record(
      a: { kind: AnomalyKind; ref: string; orderId?: string; data: object },
      now: number,
    ): Promise<boolean> {
      const result = await db
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
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
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
