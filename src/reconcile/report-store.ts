import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database.js';
import type { ReconciliationReport, ReportFinding } from './report.js';

type Tx = Transaction<Database>;

/** Who resolved the anomaly of a finding the run settled itself. */
export const RECONCILIATION_ACTOR = 'reconciliation';

/** The anomaly ref of a finding: the bill date and what it is about, stable across reruns. */
export const anomalyRef = (billDate: string, finding: Pick<ReportFinding, 'ref'>) =>
  `${billDate}:${finding.ref}`;

/**
 * The anomaly of one finding, recorded once per (kind, ref): a rerun finds the same row and
 * returns its id. A finding the run settled is recorded already resolved, so it is on file
 * without waiting in the open queue.
 */
async function anomalyFor(trx: Tx, billDate: string, f: ReportFinding, now: number): Promise<number> {
  const ref = anomalyRef(billDate, f);
  const settled = !f.needsPerson;
  await trx
    .insertInto('anomalies')
    .values({
      kind: f.kind,
      ref,
      order_id: f.orderId ?? null,
      data: JSON.stringify({
        billDate,
        ...(f.bill && { bill: f.bill }),
        ...(f.ours && { ours: f.ours }),
        ...(f.action && { action: f.action, after: f.after }),
      }),
      created_at: now,
      resolved_at: settled ? now : null,
      resolved_by: settled ? RECONCILIATION_ACTOR : null,
      resolution_note: settled ? `${f.action} by the daily reconciliation: now ${f.after}` : null,
    })
    .onConflict((oc) => oc.columns(['kind', 'ref']).doNothing())
    .execute();
  const row = await trx
    .selectFrom('anomalies')
    .select('id')
    .where('kind', '=', f.kind)
    .where('ref', '=', ref)
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Saves a day's report and the anomalies of its findings in ONE transaction, so a report never
 * names an anomaly that is not there (and whatever else must happen when a report with findings
 * is saved belongs in this transaction too). A rerun for the same date replaces the report;
 * anomalies already recorded are kept, not duplicated. Returns the report with its findings'
 * anomaly ids.
 */
export async function saveReport(
  db: Db,
  report: ReconciliationReport,
  now: number,
): Promise<ReconciliationReport> {
  return db.transaction().execute(async (trx) => {
    const findings: ReportFinding[] = [];
    for (const f of report.findings)
      findings.push({ ...f, anomalyId: await anomalyFor(trx, report.billDate, f, now) });
    const saved = { ...report, findings };
    const summary = JSON.stringify(saved);
    await trx
      .insertInto('reconciliation_reports')
      .values({
        bill_date: report.billDate,
        status: report.status,
        summary,
        created_at: now,
        updated_at: null,
      })
      .onConflict((oc) =>
        oc.column('bill_date').doUpdateSet({ status: report.status, summary, updated_at: now }),
      )
      .execute();
    return saved;
  });
}

/** The stored report of a bill date, if any. */
export async function findReport(db: Db, billDate: string): Promise<ReconciliationReport | undefined> {
  const row = await db
    .selectFrom('reconciliation_reports')
    .select('summary')
    .where('bill_date', '=', billDate)
    .executeTakeFirst();
  return row ? (JSON.parse(row.summary) as ReconciliationReport) : undefined;
}
