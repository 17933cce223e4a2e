import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../orders/order.js';
import type { RefundStatus } from '../orders/refund.js';
import { type DiffInput, diffDay, type OurOrder, type OurRefund } from './diff.js';
import type { BillPayment, BillRefund, BillRefundStatus, TradeBill } from './trade-bill.js';

const DAY = { start: Date.UTC(2023, 11, 31, 16), end: Date.UTC(2024, 0, 1, 16) };
const NOON = DAY.start + 12 * 3600_000;

function order(n: number, over: Partial<OurOrder> = {}): OurOrder {
  return {
    id: `o${n}`,
    outTradeNo: `T${n}`,
    transactionId: `42${n}`,
    amount: 2800,
    status: 'PAID',
    paidAt: NOON,
    ...over,
  };
}

function refund(n: number, over: Partial<OurRefund> = {}): OurRefund {
  return {
    id: `r${n}`,
    orderId: `o${n}`,
    outTradeNo: `T${n}`,
    outRefundNo: `R${n}`,
    refundId: `50${n}`,
    amount: 800,
    status: 'SUCCESS',
    settledAt: NOON,
    ...over,
  };
}

const paid = (o: OurOrder, over: Partial<BillPayment> = {}): BillPayment => ({
  outTradeNo: o.outTradeNo,
  transactionId: o.transactionId ?? '',
  amount: o.amount,
  at: NOON,
  line: 2,
  ...over,
});

const refunded = (r: OurRefund, over: Partial<BillRefund> = {}): BillRefund => ({
  outTradeNo: r.outTradeNo,
  transactionId: '',
  outRefundNo: r.outRefundNo,
  refundId: r.refundId ?? '',
  amount: r.amount,
  status: 'SUCCESS',
  at: NOON,
  line: 3,
  ...over,
});

/** A bill of these rows whose totals line agrees with them. */
function billOf(payments: BillPayment[], refunds: BillRefund[] = []): TradeBill {
  const totals = {
    rows: payments.length + refunds.length,
    settlementTotal: payments.reduce((s, p) => s + p.amount, 0),
    refundTotal: refunds.reduce((s, r) => s + r.amount, 0),
  };
  return { payments, refunds, summary: { ...totals }, counted: { ...totals } };
}

const diff = (input: Omit<DiffInput, 'day'>) => diffDay({ ...input, day: DAY });
const kinds = (input: Omit<DiffInput, 'day'>) => diff(input).map((f) => [f.kind, f.ref]);

describe('diffDay: payments', () => {
  it('finds nothing when the bill and our books agree', () => {
    const orders = [order(1), order(2, { status: 'REFUNDED' }), order(3, { status: 'PARTIALLY_REFUNDED' })];
    expect(diff({ bill: billOf(orders.map((o) => paid(o))), orders, refunds: [] })).toEqual([]);
  });

  it('an order paid at WeChat that we hold PENDING or CLOSED is a payment not recorded', () => {
    const pending = order(1, { status: 'PENDING', transactionId: null, paidAt: null });
    const closed = order(2, { status: 'CLOSED', transactionId: null, paidAt: null });
    const bill = billOf([paid(pending, { transactionId: '421' }), paid(closed, { transactionId: '422' })]);
    const findings = diff({ bill, orders: [pending, closed], refunds: [] });
    expect(findings).toEqual([
      {
        kind: 'bill_payment_not_recorded',
        ref: 'T1',
        orderId: 'o1',
        bill: { transactionId: '421', amount: 2800, line: 2 },
        ours: { status: 'PENDING', amount: 2800, transactionId: null },
      },
      expect.objectContaining({ kind: 'bill_payment_not_recorded', ref: 'T2', orderId: 'o2' }),
    ]);
  });

  it('a payment for an out_trade_no we never issued is unknown', () => {
    const stranger = order(9);
    expect(kinds({ bill: billOf([paid(stranger)]), orders: [], refunds: [] })).toEqual([
      ['bill_unknown_payment', 'T9'],
    ]);
  });

  it('an order we hold as paid on this day that the bill lacks is missing from the bill', () => {
    const ours = order(1);
    const findings = diff({ bill: billOf([]), orders: [ours], refunds: [] });
    expect(findings).toEqual([
      {
        kind: 'bill_missing_payment',
        ref: 'T1',
        orderId: 'o1',
        ours: { status: 'PAID', amount: 2800, transactionId: '421', paidAt: NOON },
      },
    ]);
  });

  it('an order paid on another day, or not paid at all, is not missing from this bill', () => {
    const orders = [
      order(1, { paidAt: DAY.end }),
      order(2, { paidAt: DAY.start - 1 }),
      order(3, { status: 'PENDING', paidAt: null }),
      order(4, { status: 'CLOSED', paidAt: null }),
      order(5, { status: 'REVIEW', paidAt: null }),
    ];
    expect(diff({ bill: billOf([]), orders, refunds: [] })).toEqual([]);
  });

  it('counts the first and last millisecond of the day in it', () => {
    const orders = [order(1, { paidAt: DAY.start }), order(2, { paidAt: DAY.end - 1 })];
    expect(kinds({ bill: billOf([]), orders, refunds: [] })).toEqual([
      ['bill_missing_payment', 'T1'],
      ['bill_missing_payment', 'T2'],
    ]);
  });

  it('an amount that differs is reported before any state difference', () => {
    const pending = order(1, { status: 'PENDING' });
    const findings = diff({
      bill: billOf([paid(pending, { amount: 2700 })]),
      orders: [pending],
      refunds: [],
    });
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'bill_amount_mismatch',
        bill: expect.objectContaining({ amount: 2700 }),
        ours: expect.objectContaining({ amount: 2800, status: 'PENDING' }),
      }),
    ]);
  });

  it('a REVIEW order, or a paid one held with another transaction, is a state mismatch', () => {
    const review = order(1, { status: 'REVIEW' });
    const other = order(2);
    const bill = billOf([paid(review), paid(other, { transactionId: '42other' })]);
    expect(kinds({ bill, orders: [review, other], refunds: [] })).toEqual([
      ['bill_state_mismatch', 'T1'],
      ['bill_state_mismatch', 'T2'],
    ]);
  });

  it('a totals line that does not add up to the rows is reported once, with both sides', () => {
    const o = order(1);
    const bill = billOf([paid(o)]);
    bill.summary = { rows: 2, settlementTotal: 5600, refundTotal: 0 };
    expect(diff({ bill, orders: [o], refunds: [] })).toEqual([
      {
        kind: 'bill_totals_mismatch',
        ref: 'summary',
        bill: { rows: 2, settlementTotal: 5600, refundTotal: 0 },
        ours: { rows: 1, settlementTotal: 2800, refundTotal: 0 },
      },
    ]);
  });
});

describe('diffDay: refunds', () => {
  const o1 = order(1, { status: 'PARTIALLY_REFUNDED', paidAt: DAY.start - 86_400_000 });

  it('finds nothing when the refunds agree', () => {
    const r = refund(1);
    expect(diff({ bill: billOf([], [refunded(r)]), orders: [o1], refunds: [r] })).toEqual([]);
  });

  it('a refund the bill shows SUCCESS that we hold PROCESSING is a refund not recorded', () => {
    const r = refund(1, { status: 'PROCESSING', settledAt: null });
    expect(diff({ bill: billOf([], [refunded(r)]), orders: [o1], refunds: [r] })).toEqual([
      {
        kind: 'bill_refund_not_recorded',
        ref: 'R1',
        orderId: 'o1',
        refundId: 'r1',
        bill: { outTradeNo: 'T1', refundId: '501', amount: 800, status: 'SUCCESS', line: 3 },
        ours: { status: 'PROCESSING', amount: 800, outTradeNo: 'T1' },
      },
    ]);
  });

  it('a refund we never issued is unknown; one we hold as succeeded that the bill lacks is missing', () => {
    const stranger = refund(8);
    const ours = refund(1);
    expect(kinds({ bill: billOf([], [refunded(stranger)]), orders: [o1], refunds: [ours] })).toEqual([
      ['bill_unknown_refund', 'R8'],
      ['bill_missing_refund', 'R1'],
    ]);
  });

  it('an amount, or an order, that differs is a refund amount mismatch', () => {
    const a = refund(1);
    const b = refund(2);
    const bill = billOf([], [refunded(a, { amount: 700 }), refunded(b, { outTradeNo: 'T9' })]);
    expect(kinds({ bill, orders: [], refunds: [a, b] })).toEqual([
      ['bill_refund_amount_mismatch', 'R1'],
      ['bill_refund_amount_mismatch', 'R2'],
    ]);
  });

  it.each<[BillRefundStatus, RefundStatus, boolean]>([
    ['SUCCESS', 'CLOSED', true],
    ['SUCCESS', 'CHANGE', true],
    ['REFUNDCLOSE', 'SUCCESS', true],
    ['REFUNDCLOSE', 'CLOSED', false],
    ['CHANGE', 'SUCCESS', true],
    ['CHANGE', 'CHANGE', false],
    ['PROCESSING', 'PROCESSING', false],
    // A bill written while the refund was still processing is behind us, not against us.
    ['PROCESSING', 'SUCCESS', false],
    ['PROCESSING', 'CLOSED', false],
  ])('bill %s, ours %s: state mismatch %s', (billStatus, ourStatus, mismatch) => {
    const r = refund(1, { status: ourStatus, settledAt: DAY.start - 1 });
    const found = kinds({
      bill: billOf([], [refunded(r, { status: billStatus })]),
      orders: [],
      refunds: [r],
    });
    expect(found).toEqual(mismatch ? [['bill_refund_state_mismatch', 'R1']] : []);
  });

  it('a refund settled on another day, or not succeeded, is not missing from this bill', () => {
    const refunds = [
      refund(1, { settledAt: DAY.end }),
      refund(2, { status: 'PROCESSING', settledAt: null }),
      refund(3, { status: 'CLOSED' }),
      refund(4, { status: 'CHANGE' }),
    ];
    expect(diff({ bill: billOf([]), orders: [], refunds })).toEqual([]);
  });
});

describe('diffDay: properties', () => {
  const statuses: OrderStatus[] = ['PENDING', 'PAID', 'PARTIALLY_REFUNDED', 'CLOSED', 'REFUNDED', 'REVIEW'];
  const ordersArb = fc.uniqueArray(
    fc.record({
      n: fc.integer({ min: 1, max: 40 }),
      status: fc.constantFrom(...statuses),
      amount: fc.integer({ min: 1, max: 10_000 }),
      inBill: fc.boolean(),
      billAmountDelta: fc.constantFrom(0, 0, 0, 1),
    }),
    { selector: (o) => o.n, maxLength: 30 },
  );

  it('every order is reported at most once, and agreeing books give no finding', () => {
    fc.assert(
      fc.property(ordersArb, (rows) => {
        const orders = rows.map((r) => order(r.n, { status: r.status, amount: r.amount }));
        const payments = rows
          .filter((r) => r.inBill)
          .map((r) => paid(order(r.n, { amount: r.amount + r.billAmountDelta })));
        const findings = diff({ bill: billOf(payments), orders, refunds: [] });
        const refs = findings.map((f) => f.ref);
        expect(new Set(refs).size).toBe(refs.length);
        for (const r of rows) {
          const paidHere = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(r.status);
          const agrees = r.inBill ? paidHere && r.billAmountDelta === 0 : !paidHere;
          expect(refs.includes(`T${r.n}`)).toBe(!agrees);
        }
      }),
    );
  });
});
