import type { Order } from './order.js';
import type { Refund } from './refund.js';

/** A refund as the mini program sees it: what, how much, where it stands; no internals. */
export interface RefundView {
  outRefundNo: string;
  amount: number;
  status: Refund['status'];
  createdAt: string;
  settledAt: string | null;
}

/** The order as the mini program sees it: no openid, no prepay internals. */
export interface OrderView {
  id: string;
  outTradeNo: string;
  sku: string;
  quantity: number;
  description: string;
  amount: number;
  currency: 'CNY';
  status: Order['status'];
  createdAt: string;
  paidAt: string | null;
  expiresAt: string;
  transactionId: string | null;
  /** Fen refunded or being refunded (every refund not CLOSED). */
  refundedAmount: number;
  /** Oldest first. */
  refunds: RefundView[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toRefundView(refund: Refund): RefundView {
  return {
    outRefundNo: refund.outRefundNo,
    amount: refund.amount,
    status: refund.status,
    createdAt: new Date(refund.createdAt).toISOString(),
    settledAt: iso(refund.settledAt),
  };
}

export function toOrderView(order: Order, refunds: readonly Refund[] = []): OrderView {
  return {
    id: order.id,
    outTradeNo: order.outTradeNo,
    sku: order.sku,
    quantity: order.quantity,
    description: order.description,
    amount: order.amount,
    currency: order.currency,
    status: order.status,
    createdAt: new Date(order.createdAt).toISOString(),
    paidAt: iso(order.paidAt),
    expiresAt: new Date(order.expiresAt).toISOString(),
    transactionId: order.transactionId,
    refundedAmount: order.refundedAmount,
    refunds: refunds.map(toRefundView),
  };
}
