/**
 * An order as the service knows it. Money is integer fen; times are epoch milliseconds.
 *
 * States:
 * - PENDING: saved, maybe prepaid at WeChat, not paid.
 * - PAID: WeChat confirmed payment (verified notification, or our own query).
 * - CLOSED: closed here and at WeChat; can no longer be paid.
 * - REFUNDED: money went back (refunds; a later piece of work).
 * - REVIEW: something did not add up (an amount or currency mismatch); a person must look.
 */
export type OrderStatus = 'PENDING' | 'PAID' | 'CLOSED' | 'REFUNDED' | 'REVIEW';

export const ORDER_STATUSES: readonly OrderStatus[] = ['PENDING', 'PAID', 'CLOSED', 'REFUNDED', 'REVIEW'];

/** How the service learned that an order was paid. */
export type PaidSource = 'notify' | 'query' | 'close';

export interface Order {
  id: string;
  userId: string;
  openid: string;
  outTradeNo: string;
  sku: string;
  quantity: number;
  /** Cut to 127 UTF-8 bytes on a character boundary before it is saved. */
  description: string;
  amount: number;
  currency: 'CNY';
  status: OrderStatus;
  /** The exact fields sent to unifiedorder (minus nonce and sign), so a retry is byte-identical. */
  prepayRequest: Readonly<Record<string, string>> | null;
  prepayId: string | null;
  prepayExpiresAt: number | null;
  transactionId: string | null;
  paidAt: number | null;
  paidSource: PaidSource | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  /** Set when a notification or query has been seen for this order; the reconciler skips until then. */
  lastQueriedAt: number | null;
}

export type OrderEvent =
  | 'created'
  | 'prepaid'
  | 'prepay_failed'
  | 'notification_received'
  | 'notification_rejected'
  | 'queried'
  | 'state_changed'
  | 'anomaly';

/** The events that move an order between states. */
export type OrderTransition = 'pay' | 'close' | 'refund' | 'flag';

const TRANSITIONS: Readonly<Record<OrderTransition, Partial<Record<OrderStatus, OrderStatus>>>> = {
  // Money received is never dropped: a payment that lands after a local close still counts
  // (checklist B11), and so does one confirmed while the order was flagged for review.
  pay: { PENDING: 'PAID', CLOSED: 'PAID' },
  close: { PENDING: 'CLOSED' },
  refund: { PAID: 'REFUNDED' },
  flag: { PENDING: 'REVIEW', CLOSED: 'REVIEW' },
};

/**
 * The state an order moves to, or `undefined` when the transition is not allowed from `from`.
 * Pure: the store applies the result with one conditional update naming `from`.
 *
 * @example
 * nextStatus('PENDING', 'pay') // 'PAID'
 * nextStatus('PAID', 'pay') // undefined: already paid, nothing to do
 */
export function nextStatus(from: OrderStatus, transition: OrderTransition): OrderStatus | undefined {
  return TRANSITIONS[transition][from];
}

/** States from which `transition` is allowed, for building a conditional update. */
export function statusesAllowing(transition: OrderTransition): OrderStatus[] {
  return Object.keys(TRANSITIONS[transition]) as OrderStatus[];
}
