import type { Selectable } from 'kysely';
import type { Db, ReconciliationReportsTable } from '../db/database.js';
import { createAnomalyQueue } from './anomaly-queue.js';
import { createOrderQueries } from './order-queries.js';
import { daySummary } from './summary.js';

/** A stored reconciliation report as the console lists it; `summary` is the whole report (src/reconcile/report.ts). */
export interface StoredReconciliation {
  id: number;
  billDate: string;
  status: string;
  summary: unknown;
  createdAt: number;
  updatedAt: number | null;
}

function toStored(r: Selectable<ReconciliationReportsTable>): StoredReconciliation {
  return {
    id: r.id,
    billDate: r.bill_date,
    status: r.status,
    summary: JSON.parse(r.summary),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export type ConsoleData = ReturnType<typeof createConsoleData>;

/** Everything the operator console reads and the one thing it writes (resolving an anomaly). */
export function createConsoleData(db: Db) {
  return {
    orders: createOrderQueries(db),
    anomalies: createAnomalyQueue(db),
    summary: (date: string, start: number, end: number) => daySummary(db, date, start, end),
    /** Stored daily reconciliation reports, newest bill date first. */
    async reconciliations(
      offset: number,
      limit: number,
    ): Promise<{ reports: StoredReconciliation[]; total: number }> {
      const [rows, count] = await Promise.all([
        db
          .selectFrom('reconciliation_reports')
          .selectAll()
          .orderBy('bill_date', 'desc')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('reconciliation_reports')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      return { reports: rows.map(toStored), total: Number(count.n) };
    },

    /** The stored report of one bill date. */
    async reconciliation(billDate: string): Promise<StoredReconciliation | undefined> {
      const row = await db
        .selectFrom('reconciliation_reports')
        .selectAll()
        .where('bill_date', '=', billDate)
        .executeTakeFirst();
      return row && toStored(row);
    },
  };
}
