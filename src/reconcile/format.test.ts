import { describe, expect, it } from 'vitest';
import { formatReconciliation } from './format.js';
import type { ReconciliationReport } from './report.js';

const base: ReconciliationReport = {
  billDate: '2024-01-01',
  apiVersion: 'v2',
  status: 'clean',
  bill: { payments: { count: 2, amount: 5600 }, refunds: { count: 1, amount: 800 }, rows: 3 },
  ours: { payments: { count: 2, amount: 5600 }, refunds: { count: 1, amount: 800 } },
  counts: { findings: 0, needPerson: 0, settled: 0 },
  findings: [],
  startedAt: 0,
  finishedAt: 0,
};

describe('formatReconciliation', () => {
  it('says a clean day in four lines, money in yuan', () => {
    expect(formatReconciliation(base)).toBe(
      [
        'Reconciliation of 2024-01-01 (API v2): clean: the bill and our books agree',
        '  bill: 2 payments ¥56.00, 1 refund ¥8.00 (3 rows)',
        '  ours: 2 payments ¥56.00, 1 refund ¥8.00',
        '  0 findings: 0 need a person, 0 settled',
        '',
      ].join('\n'),
    );
  });

  it('lists each finding with its mark, what differs, what the run did, and its anomaly', () => {
    const text = formatReconciliation({
      ...base,
      status: 'needs_attention',
      counts: { findings: 3, needPerson: 2, settled: 1 },
      findings: [
        {
          kind: 'bill_payment_not_recorded',
          ref: 'T1',
          bill: { transactionId: '421', amount: 2800, line: 2 },
          ours: { status: 'PENDING', amount: 2800, transactionId: null },
          action: 'settled_by_order_query',
          after: 'PAID',
          needsPerson: false,
          anomalyId: 7,
        },
        {
          kind: 'bill_amount_mismatch',
          ref: 'T2',
          bill: { transactionId: '422', amount: 2800, line: 3 },
          ours: { status: 'PAID', amount: 2700, transactionId: '422' },
          needsPerson: true,
          anomalyId: 8,
        },
        {
          kind: 'bill_missing_payment',
          ref: 'T3',
          ours: { status: 'PAID', amount: 100, transactionId: '423', paidAt: 1 },
          needsPerson: true,
        },
      ],
    });
    expect(text).toContain('NEEDS ATTENTION');
    expect(text).toContain(
      '  ✓ bill_payment_not_recorded  T1\n      transactionId: bill 421, ours null; settled by order query: now PAID (anomaly #7)\n',
    );
    expect(text).toContain('  ✗ bill_amount_mismatch  T2\n      amount: bill 2800, ours 2700 (anomaly #8)\n');
    expect(text).toContain(
      '  ✗ bill_missing_payment  T3\n      only in our books: amount 100, status PAID, transactionId 423\n',
    );
  });
});
