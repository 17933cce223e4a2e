import type { Order } from '../orders/order.js';
import type { Refund } from '../orders/refund.js';
import type { PaymentObject, RefundObject } from './event-types.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The order as a webhook's `data.object`: what the shop's backend needs to act on it. */
export function paymentObject(order: Order): PaymentObject {
  return {
    object: 'payment',
    id: order.id,
    outTradeNo: order.outTradeNo,
    status: order.status,
    amount: order.amount,
    currency: order.currency,
    description: order.description,
    sku: order.sku,
    quantity: order.quantity,
    openid: order.openid,
    transactionId: order.transactionId,
    paidSource: order.paidSource,
    refundedAmount: order.refundedAmount,
    createdAt: new Date(order.createdAt).toISOString(),
    paidAt: iso(order.paidAt),
    expiresAt: new Date(order.expiresAt).toISOString(),
  };
}

/** The refund as a webhook's `data.object`. */
export function refundObject(refund: Refund): RefundObject {
  return {
    object: 'refund',
    id: refund.id,
    paymentId: refund.orderId,
    outRefundNo: refund.outRefundNo,
    amount: refund.amount,
    status: refund.status,
    reason: refund.reason,
    refundId: refund.refundId,
    failureReason: refund.status === 'SUCCESS' ? null : refund.lastError,
    createdAt: new Date(refund.createdAt).toISOString(),
    settledAt: iso(refund.settledAt),
  };
}
