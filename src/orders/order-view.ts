import type { Order } from './order.js';

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
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toOrderView(order: Order): OrderView {
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
  };
}
