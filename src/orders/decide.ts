import { nextStatus, type Order, type OrderStatus } from './order.js';

/**
 * What WeChat told us about one payment, whichever way it came (a verified notification or our
 * own order query) and whichever API version carried it. Amounts are integer fen.
 */
export interface PaymentEvidence {
  source: 'notification' | 'query';
  outTradeNo: string;
  /** Empty when a query reported a paid order without one: never credited. */
  transactionId: string;
  /** The order amount WeChat charged (compare THIS with the order, never cashFee). */
  totalFee: number;
  currency: string;
  appid: string;
  mchId: string;
  /** When the payment completed (epoch ms), if WeChat said. */
  paidAt: number | null;
  /** What the payer paid after coupons, if WeChat said. */
  cashFee?: number;
  /** Every verified field as received, kept for audit. */
  raw: Readonly<Record<string, string>>;
}

/** Everything a person may have to look at. Stored with UNIQUE (kind, ref). */
export type AnomalyKind =
  | 'unknown_out_trade_no'
  | 'notify_amount_mismatch'
  | 'query_amount_mismatch'
  | 'transaction_conflict'
  | 'paid_after_close'
  /** WeChat refused a refund for good (PARAM_ERROR, TRADE_OVERDUE…): its reservation is released. */
  | 'refund_rejected'
  /** A refund ended CHANGE: the money left but did not reach the payer; a person must act. */
  | 'refund_abnormal'
  /** A refund ended REFUNDCLOSE at WeChat: nothing went back; its reservation is released. */
  | 'refund_closed'
  /** A refund notification or query whose amount or order is not the refund we saved. */
  | 'refund_mismatch'
  /** A refund notification naming an out_refund_no we never issued. */
  | 'unknown_out_refund_no'
  /** The daily reconciliation's findings (src/reconcile/diff.ts says what each means). */
  | 'bill_unknown_payment'
  | 'bill_payment_not_recorded'
  | 'bill_missing_payment'
  | 'bill_amount_mismatch'
  | 'bill_state_mismatch'
  | 'bill_unknown_refund'
  | 'bill_refund_not_recorded'
  | 'bill_missing_refund'
  | 'bill_refund_amount_mismatch'
  | 'bill_refund_state_mismatch'
  | 'bill_totals_mismatch'
  /** A webhook endpoint failed every delivery for 3 days and was disabled; its events wait. */
  | 'webhook_endpoint_disabled';

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'unknown_out_trade_no',
  'notify_amount_mismatch',
  'query_amount_mismatch',
  'transaction_conflict',
  'paid_after_close',
  'refund_rejected',
  'refund_abnormal',
  'refund_closed',
  'refund_mismatch',
  'unknown_out_refund_no',
  'bill_unknown_payment',
  'bill_payment_not_recorded',
  'bill_missing_payment',
  'bill_amount_mismatch',
  'bill_state_mismatch',
  'bill_unknown_refund',
  'bill_refund_not_recorded',
  'bill_missing_refund',
  'bill_refund_amount_mismatch',
  'bill_refund_state_mismatch',
  'bill_totals_mismatch',
  'webhook_endpoint_disabled',
];

/** What to do with a payment for an order, as `decide` sees it. */
export type Decision =
  /** Apply the `pay` transition; `afterClose` when the order had been closed here. */
  | { kind: 'credit'; afterClose: boolean }
  /** The same transaction again (WeChat retries; a query after a notification): nothing changes. */
  | { kind: 'duplicate' }
  /** A correct payment for an order a person owns (REVIEW): acknowledged, kept, not applied. */
  | { kind: 'hold'; status: 'REVIEW' }
  /** The amount, currency or transaction id does not add up: flag the order for review. */
  | { kind: 'flag'; anomaly: 'notify_amount_mismatch' | 'query_amount_mismatch'; ref: string }
  /** A second transaction for an order already paid by another: never credit twice. */
  | { kind: 'conflict'; anomaly: 'transaction_conflict'; ref: string };

/**
 * What a correct payment means for an order in `status` that holds `heldTransactionId`. The
 * store applies this under its row lock; `decide` applies it to the order it read.
 */
export function dispositionFor(
  status: OrderStatus,
  heldTransactionId: string | null,
  transactionId: string,
): Exclude<Decision, { kind: 'flag' }> {
  // Whether a payment moves the order is the transition table's word, not this function's.
  if (nextStatus(status, 'pay') !== undefined) return { kind: 'credit', afterClose: status === 'CLOSED' };
  switch (status) {
    case 'REVIEW':
      return { kind: 'hold', status };
    case 'PAID':
    case 'PARTIALLY_REFUNDED':
    case 'REFUNDED':
      return heldTransactionId === transactionId
        ? { kind: 'duplicate' }
        : { kind: 'conflict', anomaly: 'transaction_conflict', ref: transactionId };
    case 'PENDING':
    case 'CLOSED':
      throw new Error(`the transition table no longer lets ${status} be paid: say here what a payment means`);
    default: {
      const unreachable: never = status;
      throw new Error(`unhandled order status ${String(unreachable)}`);
    }
  }
}

/**
 * The settlement rules, in one pure function that the notification and the order query both
 * apply: the amount and currency must match the order (and a transaction id must be present)
 * whatever the order's state; then the order's state decides.
 *
 * @example
 * decide({ ...order, status: 'PENDING', amount: 100 }, { ...evidence, totalFee: 100 }) // { kind: 'credit', afterClose: false }
 * decide({ ...order, amount: 100 }, { ...evidence, source: 'query', totalFee: 99 }) // { kind: 'flag', anomaly: 'query_amount_mismatch', ref: order.outTradeNo }
 */
export function decide(
  order: Pick<Order, 'status' | 'amount' | 'transactionId' | 'outTradeNo'>,
  evidence: PaymentEvidence,
): Decision {
  if (evidence.totalFee !== order.amount || evidence.currency !== 'CNY' || evidence.transactionId === '') {
    return evidence.source === 'notification'
      ? { kind: 'flag', anomaly: 'notify_amount_mismatch', ref: evidence.transactionId }
      : { kind: 'flag', anomaly: 'query_amount_mismatch', ref: order.outTradeNo };
  }
  return dispositionFor(order.status, order.transactionId, evidence.transactionId);
}
