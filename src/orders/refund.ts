import type { RefundsTable } from '../db/database.js';

/**
 * A refund as the service knows it. Money is integer fen; times are epoch milliseconds.
 *
 * States (WeChat's own, 《查询退款》 and 《退款结果通知》):
 * - PROCESSING: saved with its out_refund_no; WeChat may not have heard of it yet (`refundId`
 *   null, `lastError` says why: a timeout, NOTENOUGH…), or accepted it and is paying it out.
 * - SUCCESS: the money went back.
 * - CHANGE: abnormal: the money left but could not reach the payer (a cancelled card). A person
 *   must act; the amount stays counted as refunded.
 * - CLOSED: nothing went back (WeChat closed it, or refused it for good); its amount is free again.
 */
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'CLOSED';

export const REFUND_STATUSES: readonly RefundStatus[] = ['PROCESSING', 'SUCCESS', 'CHANGE', 'CLOSED'];

/** The states a refund ends in; a refund leaves PROCESSING once, by one conditional update. */
export type FinalRefundStatus = Exclude<RefundStatus, 'PROCESSING'>;

export interface Refund {
  id: string;
  orderId: string;
  outRefundNo: string;
  amount: number;
  reason: string;
  status: RefundStatus;
  refundId: string | null;
  lastError: string | null;
  attempts: number;
  requestedBy: string;
  createdAt: number;
  updatedAt: number;
  settledAt: number | null;
}

export function toRefund(row: RefundsTable): Refund {
  return {
    id: row.id,
    orderId: row.order_id,
    outRefundNo: row.out_refund_no,
    amount: row.amount,
    reason: row.reason,
    status: row.status as RefundStatus,
    refundId: row.refund_id,
    lastError: row.last_error,
    attempts: row.attempts,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    settledAt: row.settled_at,
  };
}
