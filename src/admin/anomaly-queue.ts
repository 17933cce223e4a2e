import type { Selectable } from 'kysely';
import type { AnomaliesTable, Db } from '../db/database.js';
import { AppError } from '../errors.js';

export type AnomalyState = 'open' | 'resolved' | 'all';

export interface AnomalyFilter {
  state: AnomalyState;
  kind?: string;
  orderId?: string;
}

export interface QueuedAnomaly {
  id: number;
  kind: string;
  ref: string;
  orderId: string | null;
  data: unknown;
  createdAt: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

function toQueued(r: Selectable<AnomaliesTable>): QueuedAnomaly {
  return {
    id: r.id,
    kind: r.kind,
    ref: r.ref,
    orderId: r.order_id,
    data: JSON.parse(r.data),
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    resolutionNote: r.resolution_note,
  };
}

/** The anomaly queue: what a person must look at, oldest first, and a record of who settled it. */
export function createAnomalyQueue(db: Db) {
  function filtered(f: AnomalyFilter) {
    let q = db.selectFrom('anomalies');
    if (f.state === 'open') q = q.where('resolved_at', 'is', null);
    if (f.state === 'resolved') q = q.where('resolved_at', 'is not', null);
    if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
    if (f.orderId !== undefined) q = q.where('order_id', '=', f.orderId);
    return q;
  }

  return {
    async list(
      f: AnomalyFilter,
      offset: number,
      limit: number,
    ): Promise<{ anomalies: QueuedAnomaly[]; total: number }> {
      const [rows, count] = await Promise.all([
        filtered(f).selectAll().orderBy('id').limit(limit).offset(offset).execute(),
        filtered(f)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      return { anomalies: rows.map(toQueued), total: Number(count.n) };
    },

    /**
     * Marks an anomaly resolved, once: one conditional UPDATE, so two people resolving at the same
     * moment cannot both win. A second resolve is ANOMALY_ALREADY_RESOLVED (409) and keeps the first
     * record; an unknown id is ANOMALY_NOT_FOUND.
     */
    async resolve(id: number, by: string, note: string, now: number): Promise<QueuedAnomaly> {
      const updated = await db
        .updateTable('anomalies')
        .set({ resolved_at: now, resolved_by: by, resolution_note: note })
        .where('id', '=', id)
        .where('resolved_at', 'is', null)
        .executeTakeFirst();
      const row = await db.selectFrom('anomalies').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new AppError('ANOMALY_NOT_FOUND', `No anomaly has id ${id}.`);
      if (Number(updated.numUpdatedRows) !== 1) {
        throw new AppError(
          'ANOMALY_ALREADY_RESOLVED',
          `Anomaly ${id} was already resolved by ${row.resolved_by} at ${new Date(row.resolved_at ?? 0).toISOString()}.`,
        );
      }
      return toQueued(row);
    },
  };
}
