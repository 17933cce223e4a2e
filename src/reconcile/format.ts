import type { ReconciliationReport, ReportFinding, ReportStatus, Totals } from './report.js';
import { fenToYuan } from './trade-bill.js';

const VERDICT: Record<ReportStatus, string> = {
  clean: 'clean: the bill and our books agree',
  settled: 'settled: every difference was caught up by a query; nothing for a person',
  needs_attention: 'NEEDS ATTENTION: a person must look at the findings marked ✗',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const money = (t: Totals, word: string) => `${plural(t.count, word)} ¥${fenToYuan(t.amount)}`;

/** `amount 2800 / 2700`: each field both sides hold, where they differ. */
function differences(f: ReportFinding): string {
  if (!f.bill || !f.ours) {
    const side = f.bill ? 'bill' : 'ours';
    const held = (f.bill ?? f.ours) as Record<string, unknown>;
    const fields = ['amount', 'status', 'transactionId'].filter(
      (k) => held[k] !== undefined && held[k] !== null,
    );
    return `only in ${side === 'bill' ? 'the bill' : 'our books'}: ${fields.map((k) => `${k} ${held[k]}`).join(', ')}`;
  }
  const { bill, ours } = f;
  const shared = Object.keys(bill).filter((k) => k in ours && bill[k] !== ours[k]);
  return shared.map((k) => `${k}: bill ${bill[k]}, ours ${ours[k]}`).join('; ');
}

function findingLine(f: ReportFinding): string {
  const mark = f.needsPerson ? '✗' : '✓';
  const did = f.action ? `${f.action.replaceAll('_', ' ')}: now ${f.after}` : f.after;
  const anomaly = f.anomalyId === undefined ? '' : ` (anomaly #${f.anomalyId})`;
  return `  ${mark} ${f.kind}  ${f.ref}\n      ${[differences(f), did].filter(Boolean).join('; ')}${anomaly}`;
}

/**
 * The report for a person, as `weapp-pay reconcile` prints it.
 *
 * @example
 * formatReconciliation(report)
 * // Reconciliation of 2024-01-01 (API v2): NEEDS ATTENTION: …
 * //   bill: 5 payments ¥140.00, 2 refunds ¥13.00 (7 rows)
 * //   ours: 5 payments ¥140.00, 1 refund ¥5.00
 * //   5 findings: 3 need a person, 2 settled
 * //   ✗ bill_amount_mismatch  ORDER_1
 * //       amount: bill 2800, ours 2700 (anomaly #3)
 */
export function formatReconciliation(r: ReconciliationReport): string {
  const lines = [
    `Reconciliation of ${r.billDate} (API ${r.apiVersion}): ${VERDICT[r.status]}`,
    `  bill: ${money(r.bill.payments, 'payment')}, ${money(r.bill.refunds, 'refund')} (${plural(r.bill.rows, 'row')})`,
    `  ours: ${money(r.ours.payments, 'payment')}, ${money(r.ours.refunds, 'refund')}`,
    `  ${plural(r.counts.findings, 'finding')}: ${r.counts.needPerson} need a person, ${r.counts.settled} settled`,
    ...r.findings.map(findingLine),
  ];
  return `${lines.join('\n')}\n`;
}
