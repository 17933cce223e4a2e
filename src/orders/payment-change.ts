import type { PaymentEvidenceTable } from '../db/database.js';
import { compiledInsert } from '../db/size-classes.js';
import type { PaymentEvidence } from './decide.js';
import { type OrderStatus, type PaidSource, TRANSITIONS } from './order.js';

/** A payment the store is asked to record: what makes the order PAID, and the proof. */
export interface PaymentRecord {
  transactionId: string;
  paidAt: number;
  source: PaidSource;
  /** Kept in payment_evidence in the same transaction, whatever the order's state. */
  evidence?: PaymentEvidence;
}

/**
 * The one definition of becoming PAID: the columns the `pay` transition writes and the payload
 * of its 'state_changed' event. The single path (markPaid) and the batched notification path
 * both build their UPDATE and their event from this, so their rows and events cannot differ.
 */
export function paidChange(payment: PaymentRecord, from: OrderStatus, now: number) {
  const to = TRANSITIONS.pay.to;
  const patch = { transactionId: payment.transactionId, paidAt: payment.paidAt, paidSource: payment.source };
  return {
    columns: {
      status: to,
      transaction_id: payment.transactionId,
      paid_at: payment.paidAt,
      paid_source: payment.source,
      updated_at: now,
    },
    stateChanged: { from, to, ...patch },
  };
}

/** The payment_evidence row for a verified payment; `orderStatus` is the state it found. */
export function evidenceRow(
  orderId: string,
  evidence: PaymentEvidence,
  orderStatus: OrderStatus,
  now: number,
): PaymentEvidenceTable {
  return {
    transaction_id: evidence.transactionId,
    order_id: orderId,
    out_trade_no: evidence.outTradeNo,
    source: evidence.source,
    total_fee: evidence.totalFee,
    cash_fee: evidence.cashFee ?? null,
    currency: evidence.currency,
    appid: evidence.appid,
    mch_id: evidence.mchId,
    paid_at: evidence.paidAt,
    time_end: evidence.raw.time_end ?? null,
    order_status: orderStatus,
    raw: JSON.stringify(evidence.raw),
    received_at: now,
  };
}

/**
 * Evidence rows ({@link evidenceRow}), one or a batch: a transaction_id already kept keeps its
 * first row (the repeat is skipped). Compiled once per size class (size-classes.ts).
 */
export const insertEvidence = compiledInsert<PaymentEvidenceTable>({
  table: 'payment_evidence',
  columns: [
    ['transaction_id', 'text'],
    ['order_id', 'text'],
    ['out_trade_no', 'text'],
    ['source', 'text'],
    ['total_fee', 'integer'],
    ['cash_fee', 'integer'],
    ['currency', 'text'],
    ['appid', 'text'],
    ['mch_id', 'text'],
    ['paid_at', 'bigint'],
    ['time_end', 'text'],
    ['order_status', 'text'],
    ['raw', 'text'],
    ['received_at', 'bigint'],
  ],
  skipConflictsOn: ['transaction_id'],
});
