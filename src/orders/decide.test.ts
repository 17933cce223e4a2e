import { describe, expect, it } from 'vitest';
import { type Decision, decide, dispositionFor, type PaymentEvidence } from './decide.js';
import type { OrderStatus } from './order.js';

const order = {
  status: 'PENDING' as OrderStatus,
  amount: 2800,
  transactionId: null as string | null,
  outTradeNo: 'OTN1',
};
const evidence: PaymentEvidence = {
  source: 'notification',
  outTradeNo: 'OTN1',
  transactionId: '4200000001',
  totalFee: 2800,
  currency: 'CNY',
  appid: 'wx1234567890abcdef',
  mchId: '1900000109',
  paidAt: 1_704_081_930_000,
  cashFee: 2000,
  raw: { total_fee: '2800' },
};

describe('decide', () => {
  it.each<[string, Partial<typeof order>, Partial<PaymentEvidence>, Decision]>([
    ['credits a PENDING order', {}, {}, { kind: 'credit', afterClose: false }],
    ['credits a CLOSED order, saying so', { status: 'CLOSED' }, {}, { kind: 'credit', afterClose: true }],
    ['holds a REVIEW order for a person', { status: 'REVIEW' }, {}, { kind: 'hold', status: 'REVIEW' }],
    [
      'treats the same transaction on a PAID order as a duplicate',
      { status: 'PAID', transactionId: '4200000001' },
      {},
      { kind: 'duplicate' },
    ],
    [
      'and on a REFUNDED order',
      { status: 'REFUNDED', transactionId: '4200000001' },
      {},
      { kind: 'duplicate' },
    ],
    [
      'calls another transaction on a PAID order a conflict',
      { status: 'PAID', transactionId: '4200000999' },
      {},
      { kind: 'conflict', anomaly: 'transaction_conflict', ref: '4200000001' },
    ],
    [
      'and on a REFUNDED order',
      { status: 'REFUNDED', transactionId: '4200000999' },
      {},
      { kind: 'conflict', anomaly: 'transaction_conflict', ref: '4200000001' },
    ],
    [
      'flags a notified amount that differs, keyed by the transaction',
      {},
      { totalFee: 1 },
      { kind: 'flag', anomaly: 'notify_amount_mismatch', ref: '4200000001' },
    ],
    [
      'flags another currency',
      {},
      { currency: 'USD' },
      { kind: 'flag', anomaly: 'notify_amount_mismatch', ref: '4200000001' },
    ],
    [
      'flags a queried amount that differs, keyed by the order',
      {},
      { source: 'query', totalFee: 2799 },
      { kind: 'flag', anomaly: 'query_amount_mismatch', ref: 'OTN1' },
    ],
    [
      'flags a query that reports payment without a transaction id',
      {},
      { source: 'query', transactionId: '' },
      { kind: 'flag', anomaly: 'query_amount_mismatch', ref: 'OTN1' },
    ],
    [
      'flags a mismatch whatever the state, before looking at it',
      { status: 'PAID', transactionId: '4200000001' },
      { totalFee: 2801 },
      { kind: 'flag', anomaly: 'notify_amount_mismatch', ref: '4200000001' },
    ],
  ])('%s', (_label, o, e, expected) => {
    expect(decide({ ...order, ...o }, { ...evidence, ...e })).toEqual(expected);
  });

  it('compares total_fee, never cash_fee (coupons lower it)', () => {
    expect(decide(order, { ...evidence, cashFee: 1 })).toEqual({ kind: 'credit', afterClose: false });
  });

  it('agrees with dispositionFor, which the store applies under its lock, for every state', () => {
    for (const status of ['PENDING', 'PAID', 'CLOSED', 'REFUNDED', 'REVIEW'] as const) {
      for (const held of [null, '4200000001', '4200000999']) {
        expect(decide({ ...order, status, transactionId: held }, evidence)).toEqual(
          dispositionFor(status, held, evidence.transactionId),
        );
      }
    }
  });
});
