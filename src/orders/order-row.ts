import type { OrdersTable } from '../db/database.js';
import { compiledInsert } from '../db/size-classes.js';
import type { IdempotencyClaim } from '../idempotency/idempotency-store.js';
import type { Order, OrderEvent, OrderStatus, PaidSource } from './order.js';

/** What the service decides before the first save; the store adds status, times and the rest. */
export type NewOrder = Pick<
  Order,
  | 'id'
  | 'userId'
  | 'openid'
  | 'outTradeNo'
  | 'sku'
  | 'quantity'
  | 'description'
  | 'amount'
  | 'currency'
  | 'expiresAt'
> &
  Partial<Pick<Order, 'apiKeyId' | 'metadata' | 'attach' | 'notifyUrl'>> & {
    /** The exact unifiedorder request, saved with the order so one commit fixes both. */
    prepayRequest?: Readonly<Record<string, string>>;
    /** The Idempotency-Key claim the order answers; recorded on the key in the order's own commit. */
    idempotencyClaim?: IdempotencyClaim;
  };

/** The row for a new order: PENDING, nothing sent to WeChat yet, no lease. */
export function newOrderRow(row: NewOrder, now: number): OrdersTable {
  return {
    id: row.id,
    user_id: row.userId,
    openid: row.openid,
    out_trade_no: row.outTradeNo,
    sku: row.sku,
    quantity: row.quantity,
    description: row.description,
    amount: row.amount,
    currency: row.currency,
    status: 'PENDING',
    prepay_request: row.prepayRequest ? JSON.stringify(row.prepayRequest) : null,
    prepay_id: null,
    prepay_expires_at: null,
    transaction_id: null,
    paid_at: null,
    paid_source: null,
    created_at: now,
    updated_at: now,
    expires_at: row.expiresAt,
    last_queried_at: null,
    lease_until: null,
    lease_owner: null,
    refunded_fen: 0,
    refund_count: 0,
    api_key_id: row.apiKeyId ?? null,
    metadata: row.metadata ? JSON.stringify(row.metadata) : null,
    attach: row.attach ?? null,
    notify_url: row.notifyUrl ?? null,
  };
}

/** A row of the orders table as the domain sees it. The lease columns stay inside the store. */
export function toOrder(row: OrdersTable): Order {
  return {
    id: row.id,
    userId: row.user_id,
    openid: row.openid,
    outTradeNo: row.out_trade_no,
    sku: row.sku,
    quantity: row.quantity,
    description: row.description,
    amount: row.amount,
    currency: row.currency as 'CNY',
    status: row.status as OrderStatus,
    prepayRequest: row.prepay_request === null ? null : JSON.parse(row.prepay_request),
    prepayId: row.prepay_id,
    prepayExpiresAt: row.prepay_expires_at,
    transactionId: row.transaction_id,
    paidAt: row.paid_at,
    paidSource: row.paid_source as PaidSource | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    lastQueriedAt: row.last_queried_at,
    refundedAmount: row.refunded_fen,
    refundCount: row.refund_count,
    apiKeyId: row.api_key_id ?? null,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    attach: row.attach ?? null,
    notifyUrl: row.notify_url ?? null,
  };
}

/** An order_events row: append-only, data as JSON text. */
export function orderEventRow(orderId: string, type: OrderEvent, data: object, now: number): OrderEventRow {
  return { order_id: orderId, type, data: JSON.stringify(data), created_at: now };
}

export interface OrderEventRow {
  order_id: string;
  type: OrderEvent;
  data: string;
  created_at: number;
}

/** Every write of order events, one or a batch: compiled once per size class (size-classes.ts). */
export const insertOrderEvents = compiledInsert<OrderEventRow>({
  table: 'order_events',
  columns: [
    ['order_id', 'text'],
    ['type', 'text'],
    ['data', 'text'],
    ['created_at', 'bigint'],
  ],
});

/** New orders ({@link newOrderRow}), returned as stored: compiled once per size class. */
export const insertOrders = compiledInsert<OrdersTable>({
  table: 'orders',
  columns: [
    ['id', 'text'],
    ['user_id', 'text'],
    ['openid', 'text'],
    ['out_trade_no', 'text'],
    ['sku', 'text'],
    ['quantity', 'integer'],
    ['description', 'text'],
    ['amount', 'integer'],
    ['currency', 'text'],
    ['status', 'text'],
    ['prepay_request', 'text'],
    ['prepay_id', 'text'],
    ['prepay_expires_at', 'bigint'],
    ['transaction_id', 'text'],
    ['paid_at', 'bigint'],
    ['paid_source', 'text'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
    ['expires_at', 'bigint'],
    ['last_queried_at', 'bigint'],
    ['lease_until', 'bigint'],
    ['lease_owner', 'text'],
    ['refunded_fen', 'integer'],
    ['refund_count', 'integer'],
    ['api_key_id', 'text'],
    ['metadata', 'text'],
    ['attach', 'text'],
    ['notify_url', 'text'],
  ],
  returning: true,
});
