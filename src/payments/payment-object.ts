import type { Order } from '../orders/order.js';
import type { Refund } from '../orders/refund.js';

/**
 * A payment as the shop's backend sees it through /v1 (and, later, in webhook events): snake_case
 * like the request fields, money in integer fen, times ISO 8601 UTC. Every order is a payment,
 * catalogue orders included (`api_key_id` null).
 */
export interface PaymentObject {
  id: string;
  object: 'payment';
  amount: number;
  currency: 'CNY';
  description: string;
  status: Order['status'];
  out_trade_no: string;
  openid: string;
  attach: string | null;
  metadata: Readonly<Record<string, string>>;
  notify: string | null;
  transaction_id: string | null;
  /** Fen refunded or being refunded (every refund not CLOSED). */
  refunded_amount: number;
  refunds: RefundObject[];
  created_at: string;
  paid_at: string | null;
  expires_at: string;
  api_key_id: string | null;
}

export interface RefundObject {
  id: string;
  object: 'refund';
  payment_id: string;
  out_refund_no: string;
  amount: number;
  reason: string;
  status: Refund['status'];
  /** WeChat's refund_id once it accepted the refund. */
  refund_id: string | null;
  /** Why WeChat has not settled it yet (NOTENOUGH, a timeout…) or why it was refused. */
  last_error: string | null;
  created_at: string;
  settled_at: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toRefundObject(refund: Refund): RefundObject {
  return {
    id: refund.id,
    object: 'refund',
    payment_id: refund.orderId,
    out_refund_no: refund.outRefundNo,
    amount: refund.amount,
    reason: refund.reason,
    status: refund.status,
    refund_id: refund.refundId,
    last_error: refund.lastError,
    created_at: new Date(refund.createdAt).toISOString(),
    settled_at: iso(refund.settledAt),
  };
}

/** The payment object of an order, with its refunds oldest first. */
export function toPaymentObject(order: Order, refunds: readonly Refund[] = []): PaymentObject {
  return {
    id: order.id,
    object: 'payment',
    amount: order.amount,
    currency: order.currency,
    description: order.description,
    status: order.status,
    out_trade_no: order.outTradeNo,
    openid: order.openid,
    attach: order.attach,
    metadata: order.metadata ?? {},
    notify: order.notifyUrl,
    transaction_id: order.transactionId,
    refunded_amount: order.refundedAmount,
    refunds: refunds.map(toRefundObject),
    created_at: new Date(order.createdAt).toISOString(),
    paid_at: iso(order.paidAt),
    expires_at: new Date(order.expiresAt).toISOString(),
    api_key_id: order.apiKeyId,
  };
}
