import { ANOMALY_KINDS, type AnomalyKind } from '../orders/decide.js';
import type { OrderStatus } from '../orders/order.js';
import type { RefundStatus } from '../orders/refund.js';
import type { BillRefundStatus, TradeBill } from './trade-bill.js';

/**
 * The three-way comparison of a day: WeChat's bill, our orders and our refunds. Pure: the rows
 * come in, the findings go out; src/reconcile/run.ts does the reading, settling and saving.
 */

/** An order as the comparison needs it. */
export interface OurOrder {
  id: string;
  outTradeNo: string;
  transactionId: string | null;
  amount: number;
  status: OrderStatus;
  paidAt: number | null;
}

/** A refund as the comparison needs it, with its order's out_trade_no. */
export interface OurRefund {
  id: string;
  orderId: string;
  outTradeNo: string;
  outRefundNo: string;
  refundId: string | null;
  amount: number;
  status: RefundStatus;
  settledAt: number | null;
}

/**
 * Every way the bill and our books can disagree. Each is also an anomaly kind (AnomalyKind in
 * src/orders/decide.ts, the one list of them), so a finding lands in the console's queue under
 * its own name:
 * - bill_unknown_payment: the bill has a payment for an out_trade_no we never issued;
 * - bill_payment_not_recorded: WeChat was paid for an order we still hold PENDING or CLOSED (its
 *   notification was lost): settled by an order query;
 * - bill_missing_payment: we hold an order paid on this day that the bill does not list;
 * - bill_amount_mismatch: the bill's amount for an order is not the order's;
 * - bill_state_mismatch: the bill says paid and we say otherwise (REVIEW), or another
 *   transaction paid it;
 * - bill_unknown_refund: a refund with an out_refund_no we never issued;
 * - bill_refund_not_recorded: a refund the bill shows SUCCESS that we hold PROCESSING: settled
 *   by a refund query;
 * - bill_missing_refund: a refund we hold as succeeded on this day that the bill does not list;
 * - bill_refund_amount_mismatch: another amount, or another order, for the same out_refund_no;
 * - bill_refund_state_mismatch: the bill and we disagree on how a refund ended;
 * - bill_totals_mismatch: the bill's own totals line does not add up to its rows.
 */
export type FindingKind = Extract<AnomalyKind, `bill_${string}`>;

export const FINDING_KINDS: readonly FindingKind[] = ANOMALY_KINDS.filter((k): k is FindingKind =>
  k.startsWith('bill_'),
);

export interface Finding {
  kind: FindingKind;
  /** What it is about: the out_trade_no, the out_refund_no, or `summary`. Stable across reruns. */
  ref: string;
  orderId?: string;
  /** Our refund's id, for refund findings about a refund we hold. */
  refundId?: string;
  /** What the bill says (absent when the bill does not list it). */
  bill?: Record<string, string | number>;
  /** What we hold (absent when we hold nothing). */
  ours?: Record<string, string | number | null>;
}

/** Money that counts as paid in our books: a payment that moved the order past PENDING. */
const PAID_HERE: readonly OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];
/** The bill's refund states in our words. */
const REFUND_STATE: Record<BillRefundStatus, RefundStatus> = {
  SUCCESS: 'SUCCESS',
  PROCESSING: 'PROCESSING',
  REFUNDCLOSE: 'CLOSED',
  CHANGE: 'CHANGE',
};

export interface DiffInput {
  bill: TradeBill;
  /** Our orders the bill names, and those we hold as paid within the day. */
  orders: readonly OurOrder[];
  /** Our refunds the bill names, and those we hold as succeeded within the day. */
  refunds: readonly OurRefund[];
  /** The bill's day, [start, end) in epoch ms (a Beijing day). */
  day: { start: number; end: number };
}

const inDay = (t: number | null, day: DiffInput['day']) => t !== null && t >= day.start && t < day.end;

/**
 * Compares one day's bill with our books and lists every difference, payments first, in bill
 * order, then ours the bill lacks.
 *
 * @example
 * diffDay({ bill, orders: [{ …order, status: 'PENDING' }], refunds: [], day })
 * // [{ kind: 'bill_payment_not_recorded', ref: 'ORDER_1', orderId: '…', bill: {…}, ours: {…} }]
 */
export function diffDay(input: DiffInput): Finding[] {
  const { bill, day } = input;
  const findings: Finding[] = [];
  const orders = new Map(input.orders.map((o) => [o.outTradeNo, o]));
  const refunds = new Map(input.refunds.map((r) => [r.outRefundNo, r]));

  const { summary, counted } = bill;
  if (
    summary.rows !== counted.rows ||
    summary.settlementTotal !== counted.settlementTotal ||
    summary.refundTotal !== counted.refundTotal
  ) {
    findings.push({
      kind: 'bill_totals_mismatch',
      ref: 'summary',
      bill: {
        rows: summary.rows,
        settlementTotal: summary.settlementTotal,
        refundTotal: summary.refundTotal,
      },
      ours: {
        rows: counted.rows,
        settlementTotal: counted.settlementTotal,
        refundTotal: counted.refundTotal,
      },
    });
  }

  const billed = new Set<string>();
  for (const p of bill.payments) {
    billed.add(p.outTradeNo);
    const seen = { transactionId: p.transactionId, amount: p.amount, line: p.line };
    const order = orders.get(p.outTradeNo);
    if (!order) {
      findings.push({ kind: 'bill_unknown_payment', ref: p.outTradeNo, bill: seen });
      continue;
    }
    const held = {
      status: order.status,
      amount: order.amount,
      transactionId: order.transactionId,
    };
    const about = { ref: p.outTradeNo, orderId: order.id, bill: seen, ours: held };
    if (p.amount !== order.amount) findings.push({ kind: 'bill_amount_mismatch', ...about });
    else if (order.status === 'PENDING' || order.status === 'CLOSED')
      findings.push({ kind: 'bill_payment_not_recorded', ...about });
    else if (!PAID_HERE.includes(order.status) || order.transactionId !== p.transactionId)
      findings.push({ kind: 'bill_state_mismatch', ...about });
  }
  for (const order of input.orders) {
    if (billed.has(order.outTradeNo) || !PAID_HERE.includes(order.status) || !inDay(order.paidAt, day))
      continue;
    findings.push({
      kind: 'bill_missing_payment',
      ref: order.outTradeNo,
      orderId: order.id,
      ours: {
        status: order.status,
        amount: order.amount,
        transactionId: order.transactionId,
        paidAt: order.paidAt,
      },
    });
  }

  const billedRefunds = new Set<string>();
  for (const r of bill.refunds) {
    billedRefunds.add(r.outRefundNo);
    const seen = {
      outTradeNo: r.outTradeNo,
      refundId: r.refundId,
      amount: r.amount,
      status: r.status,
      line: r.line,
    };
    const refund = refunds.get(r.outRefundNo);
    if (!refund) {
      findings.push({ kind: 'bill_unknown_refund', ref: r.outRefundNo, bill: seen });
      continue;
    }
    const held = { status: refund.status, amount: refund.amount, outTradeNo: refund.outTradeNo };
    const about = {
      ref: r.outRefundNo,
      orderId: refund.orderId,
      refundId: refund.id,
      bill: seen,
      ours: held,
    };
    const state = REFUND_STATE[r.status];
    if (r.amount !== refund.amount || r.outTradeNo !== refund.outTradeNo)
      findings.push({ kind: 'bill_refund_amount_mismatch', ...about });
    else if (state === 'SUCCESS' && refund.status === 'PROCESSING')
      findings.push({ kind: 'bill_refund_not_recorded', ...about });
    // A bill written while a refund was PROCESSING is behind us, not against us.
    else if (state !== refund.status && state !== 'PROCESSING')
      findings.push({ kind: 'bill_refund_state_mismatch', ...about });
  }
  for (const refund of input.refunds) {
    if (billedRefunds.has(refund.outRefundNo) || refund.status !== 'SUCCESS' || !inDay(refund.settledAt, day))
      continue;
    findings.push({
      kind: 'bill_missing_refund',
      ref: refund.outRefundNo,
      orderId: refund.orderId,
      refundId: refund.id,
      ours: {
        status: refund.status,
        amount: refund.amount,
        outTradeNo: refund.outTradeNo,
        settledAt: refund.settledAt,
      },
    });
  }
  return findings;
}
