import type { Db } from '../db/database.js';
import { createAnomalyQueue } from './anomaly-queue.js';
import { createOrderQueries } from './order-queries.js';
import { daySummary } from './summary.js';

export interface ReconciliationReport {
  id: number;
  billDate: string;
  status: string;
  summary: unknown;
  createdAt: number;
}

export type ConsoleData = ReturnType<typeof createConsoleData>;

/** Everything the operator console reads and the one thing it writes (resolving an anomaly). */
export function createConsoleData(db: Db) {
  return {
    orders: createOrderQueries(db),
    anomalies: createAnomalyQueue(db),
    summary: (date: string, start: number, end: number) => daySummary(db, date, start, end),
    /** Stored daily reconciliation reports, newest bill date first. Empty until that job exists. */
    async reconciliations(
      offset: number,
      limit: number,
    ): Promise<{ reports: ReconciliationReport[]; total: number }> {
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
      return {
        reports: rows.map((r) => ({
          id: r.id,
          billDate: r.bill_date,
          status: r.status,
          summary: JSON.parse(r.summary),
          createdAt: r.created_at,
        })),
        total: Number(count.n),
      };
    },
  };
}
