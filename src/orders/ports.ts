/**
 * What the order services need from the outside world, as narrow structural types. The real
 * implementations are the Kysely stores (src/orders/*-store.ts) and the v2 client
 * (src/wechat/v2/client.ts); tests may pass anything with the same shape.
 */
import type { V2TradeState } from '../wechat/v2/responses.js';
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
  /** Saves a new prepay_id with its 'prepaid' event; resolves to the order as saved. */
  savePrepay(id: string, prepay: { prepayId: string; prepayExpiresAt: number }, now: number): Promise<Order>;
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

/** v3's trade states are v2's without ACCEPT, so v2's union names both. */
export type TradeState = V2TradeState;

/**
 * WeChat's view of one order, whichever API version reported it. A paid order carries its
 * payment as evidence, which decide.ts judges exactly as it judges a notification's.
 */
export type GatewayTransaction =
  | { tradeState: 'SUCCESS' | 'REFUND'; evidence: PaymentEvidence }
  | { tradeState: Exclude<TradeState, 'SUCCESS' | 'REFUND'> };

/** The parameters `wx.requestPayment` takes, signed for the API version in use. */
export interface PaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'MD5' | 'HMAC-SHA256' | 'RSA';
  paySign: string;
}

/**
 * The payment API, whichever version speaks it (src/orders/gateway-v2.ts, gateway-v3.ts).
 * Rejections arrive as WechatRejectedError with v2's spelling of the codes the order services
 * act on (`ORDERPAID`, `ORDERCLOSED`, `ORDERNOTEXIST`): the v3 adapter removes the underscores,
 * as WeChat's v3 error table advises.
 */
export interface PaymentGateway {
  readonly version: 'v2' | 'v3';
  /**
   * The request that creates `order` at WeChat, as a flat record the store saves before the
   * call, so every retry sends exactly these fields.
   */
  prepayRequest(
    order: {
      outTradeNo: string;
      description: string;
      amount: number;
      openid: string;
      expiresAt: number;
      /** WeChat's `attach` (at most 127 UTF-8 bytes), echoed back in queries and notifications. */
      attach?: string | null;
    },
    clientIp: string,
  ): Record<string, string>;
  /** Creates (or re-enters) the order at WeChat with a saved request. */
  prepay(request: Readonly<Record<string, string>>): Promise<{ prepayId: string }>;
  /** Signs the `wx.requestPayment` parameters for a prepay_id. */
  payParams(prepayId: string): PaymentParams;
  query(outTradeNo: string): Promise<GatewayTransaction>;
  /** Resolves when closed; `ORDERPAID` arrives as a WechatRejectedError. */
  close(outTradeNo: string): Promise<void>;
  /** Releases the client's connections. */
  shutdown(): Promise<void>;
}
