/**
 * What the order services need from the outside world, as narrow structural types. The real
 * implementations are the Kysely stores (src/orders/*-store.ts) and the v2 client
 * (src/wechat/v2/client.ts); tests may pass anything with the same shape.
 */
import type { AnomalyKind, PaymentEvidence } from './decide.js';
import type { Order, OrderEvent, OrderStatus, OrderTransition } from './order.js';
import type { NewOrder } from './order-row.js';
import type { PaymentRecord } from './payment-change.js';

export interface OrderStorePort {
  insert(row: NewOrder, now: number): Promise<Order>;
  findById(id: string): Promise<Order | undefined>;
  findByIdForUser(id: string, userId: string): Promise<Order | undefined>;
  findByOutTradeNo(outTradeNo: string): Promise<Order | undefined>;
  savePrepayRequest(id: string, fields: Record<string, string>, now: number): Promise<void>;
  savePrepay(id: string, prepay: { prepayId: string; prepayExpiresAt: number }, now: number): Promise<void>;
  /** A named transition (order.ts TRANSITIONS); `pay` is markPaid's alone. */
  transition(
    id: string,
    name: Exclude<OrderTransition, 'pay'>,
    details: {
      event: { type: OrderEvent; data: object };
      patch?: { lastQueriedAt: number };
      evidence?: PaymentEvidence;
    },
    now: number,
  ): Promise<Order | undefined>;
  markPaid(id: string, paid: PaymentRecord, now: number): Promise<{ changed: boolean; order: Order }>;
  /** Evidence of a payment markPaid refused as a conflict (first copy per transaction_id wins). */
  keepEvidence(orderId: string, evidence: PaymentEvidence, now: number): Promise<void>;
  /** findByOutTradeNo, grouped with concurrent look-ups into one SELECT (the notification path). */
  findForNotification(outTradeNo: string): Promise<Order | undefined>;
  /** markPaid plus the 'notification_received' event, grouped with other notifications into one commit. */
  markPaidFromNotification(
    seen: Order,
    paid: { transactionId: string; paidAt: number; cashFee: number; evidence?: PaymentEvidence },
    now: number,
  ): Promise<{ changed: boolean; order: Order; from: OrderStatus }>;
  addEvent(orderId: string, type: OrderEvent, data: object, now: number): Promise<void>;
  events(orderId: string): Promise<{ id: number; type: string; data: unknown; createdAt: number }[]>;
  claimForReconcile(claim: {
    now: number;
    createdBefore: number;
    limit: number;
    leaseMs: number;
    owner: string;
  }): Promise<Order[]>;
  release(id: string): Promise<void>;
  touchQueried(id: string, now: number): Promise<void>;
  countByStatus(): Promise<Record<OrderStatus, number>>;
}

export interface AnomalyStorePort {
  record(
    anomaly: { kind: AnomalyKind; ref: string; orderId?: string; data: object },
    now: number,
  ): Promise<boolean>;
}
