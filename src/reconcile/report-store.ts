import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database.js';
import type { Outbox } from '../webhooks/outbox.js';
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
async function anomalyFor(
  trx: Tx,
  billDate: string,
  f: ReportFinding,
  now: number,
): Promise<{ id: number; isNew: boolean }> {
  const ref = anomalyRef(billDate, f);
  const settled = !f.needsPerson;
  const inserted = await trx
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
    .executeTakeFirst();
  const row = await trx
    .selectFrom('anomalies')
    .select('id')
    .where('kind', '=', f.kind)
    .where('ref', '=', ref)
    .executeTakeFirstOrThrow();
  return { id: row.id, isNew: Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 };
}

const PAYMENT_FINDINGS: ReadonlySet<string> = new Set([
  'bill_unknown_payment',
  'bill_payment_not_recorded',
  'bill_missing_payment',
  'bill_amount_mismatch',
  'bill_state_mismatch',
]);

/** The `reconciliation.mismatch` webhook's object for one finding. */
function mismatchObject(billDate: string, f: ReportFinding) {
  const pick = (key: string) => {
    const value = f.bill?.[key] ?? f.ours?.[key];
    return typeof value === 'string' ? value : null;
  };
  return {
    object: 'reconciliation_mismatch' as const,
    billDate,
    kind: f.kind,
    // A payment finding's ref is its out_trade_no; a refund finding's is its out_refund_no.
    outTradeNo: PAYMENT_FINDINGS.has(f.kind) ? f.ref : pick('outTradeNo'),
    transactionId: pick('transactionId'),
    details: {
      ref: f.ref,
      needsPerson: f.needsPerson,
      ...(f.bill && { bill: f.bill }),
      ...(f.ours && { ours: f.ours }),
      ...(f.action && { action: f.action, after: f.after }),
    },
  };
}

/**
 * Saves a day's report, the anomalies of its findings and a `reconciliation.mismatch` webhook
 * event for each finding first seen, in ONE transaction: a report never names an anomaly that is
 * not there, and an event never announces a finding that was not saved. A rerun for the same date
 * replaces the report; anomalies (and so events) already recorded are kept, not duplicated.
 * Returns the report with its findings' anomaly ids.
 */
export async function saveReport(
  db: Db,
  report: ReconciliationReport,
  now: number,
  outbox?: Outbox,
): Promise<ReconciliationReport> {
  const saved = await db.transaction().execute(async (trx) => {
    const findings: ReportFinding[] = [];
    for (const f of report.findings) {
      const anomaly = await anomalyFor(trx, report.billDate, f, now);
      findings.push({ ...f, anomalyId: anomaly.id });
      if (anomaly.isNew && outbox) {
        await outbox.record(trx, 'reconciliation.mismatch', mismatchObject(report.billDate, f), now, {
          ...(f.orderId && { orderId: f.orderId }),
          ...(f.refundId && { refundId: f.refundId }),
        });
      }
    }
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
  outbox?.committed();
  return saved;
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
