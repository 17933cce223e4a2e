import type { Finding } from './diff.js';

/**
 * One day's reconciliation report, as stored in reconciliation_reports (the `summary` JSON),
 * printed by `weapp-pay reconcile --json` and shown in the console. Amounts are integer fen.
 *
 * Status:
 * - clean: the bill and our books agree;
 * - settled: they disagreed only where the service could catch up by itself (a payment or a
 *   refund whose notification was lost, settled now by a query); the findings are kept, their
 *   anomalies recorded as resolved;
 * - needs_attention: at least one finding needs a person (`weapp-pay reconcile` exits 1).
 */
export type ReportStatus = 'clean' | 'settled' | 'needs_attention';

export interface Totals {
  count: number;
  amount: number;
}

export interface ReportFinding extends Finding {
  /** What the run did about it: asked WeChat and recorded the answer. */
  action?: 'settled_by_order_query' | 'settled_by_refund_query';
  /** The state of our order or refund after the action. */
  after?: string;
  /** False only when the action settled it: the books now agree. */
  needsPerson: boolean;
  /** The anomaly this finding became (GET /admin/anomalies). */
  anomalyId?: number;
}

export interface ReconciliationReport {
  billDate: string;
  apiVersion: 'v2' | 'v3';
  status: ReportStatus;
  /** What the bill lists: successful payments and refunds, and its rows in all. */
  bill: { payments: Totals; refunds: Totals; rows: number };
  /** What we hold for the day: orders paid (by paid_at) and refunds succeeded (by settled_at). */
  ours: { payments: Totals; refunds: Totals };
  counts: { findings: number; needPerson: number; settled: number };
  findings: ReportFinding[];
  startedAt: number;
  finishedAt: number;
}

/** The report's status from its findings. */
export function statusOf(findings: readonly ReportFinding[]): ReportStatus {
  if (findings.length === 0) return 'clean';
  return findings.some((f) => f.needsPerson) ? 'needs_attention' : 'settled';
}

export function countsOf(findings: readonly ReportFinding[]): ReconciliationReport['counts'] {
  const needPerson = findings.filter((f) => f.needsPerson).length;
  return { findings: findings.length, needPerson, settled: findings.length - needPerson };
}

export const totalOf = (amounts: readonly number[]): Totals => ({
  count: amounts.length,
  amount: amounts.reduce((s, a) => s + a, 0),
});
