/**
 * An order as the service knows it. Money is integer fen; times are epoch milliseconds.
 *
 * States:
 * - PENDING: saved, maybe prepaid at WeChat, not paid.
 * - PAID: WeChat confirmed payment (verified notification, or our own query).
 * - CLOSED: closed here and at WeChat; can no longer be paid.
 * - PARTIALLY_REFUNDED: paid, and some of the money went back (at least one refund SUCCESS).
 * - REFUNDED: all of the money went back (its refunds' SUCCESS amounts add up to the amount).
 * - REVIEW: something did not add up (an amount or currency mismatch); a person must look.
 */
export type OrderStatus = 'PENDING' | 'PAID' | 'PARTIALLY_REFUNDED' | 'CLOSED' | 'REFUNDED' | 'REVIEW';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'PENDING',
  'PAID',
  'PARTIALLY_REFUNDED',
  'CLOSED',
  'REFUNDED',
  'REVIEW',
];

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
  /** Fen reserved for refunds (every refund not CLOSED); never more than `amount`. */
  refundedAmount: number;
  /** Refunds asked for, at most {@link MAX_REFUNDS_PER_ORDER}. */
  refundCount: number;
  /** The API key that created it through /v1; null for the mini program's catalogue orders. */
  apiKeyId: string | null;
  /** /v1: the shop's own data, kept and returned as given. */
  metadata: Readonly<Record<string, string>> | null;
  /** /v1: WeChat's `attach`, sent with the order and echoed back by WeChat. */
  attach: string | null;
  /** /v1: where the shop asked to hear about this payment. */
  notifyUrl: string | null;
}

/** WeChat takes at most 50 refunds per order (《申请退款》); the database refuses the 51st too. */
export const MAX_REFUNDS_PER_ORDER = 50;

export type OrderEvent =
  | 'created'
  | 'prepaid'
  | 'prepay_failed'
  | 'notification_received'
  | 'notification_rejected'
  | 'queried'
  | 'state_changed'
  | 'anomaly'
  | 'refund_requested'
  | 'refund_settled';

/** The events that move an order between states: callers name one, the table says the rest. */
export type OrderTransition = 'pay' | 'close' | 'partial_refund' | 'refund' | 'flag';

export interface TransitionRule {
  /** The only states the event may start from; the store's conditional UPDATE names exactly these. */
  readonly from: readonly OrderStatus[];
  readonly to: OrderStatus;
}

/**
 * The one authority on how an order moves. A new state is a new entry
 * in OrderStatus and ORDER_STATUSES, new rows here, and a new migration's CHECK list.
 */
export const TRANSITIONS: Readonly<Record<OrderTransition, TransitionRule>> = {
  // Money received is never dropped: a payment that lands after a local close still counts.
  // A REVIEW order is not paid by this table: a person decides.
  pay: { from: ['PENDING', 'CLOSED'], to: 'PAID' },
  close: { from: ['PENDING'], to: 'CLOSED' },
  // A refund's SUCCESS moves the order: REFUNDED once the successful refunds add up to the
  // amount, PARTIALLY_REFUNDED before. These `from` states are also the only ones a refund may
  // be asked for in (refund-store.ts names them in its reservation).
  partial_refund: { from: ['PAID', 'PARTIALLY_REFUNDED'], to: 'PARTIALLY_REFUNDED' },
  refund: { from: ['PAID', 'PARTIALLY_REFUNDED'], to: 'REFUNDED' },
  flag: { from: ['PENDING', 'CLOSED'], to: 'REVIEW' },
};

export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as OrderTransition[];

/**
 * The state an order moves to, or `undefined` when the transition is not allowed from `from`.
 * Pure: the store applies the result with one conditional update naming the allowed old states.
 *
 * @example
 * nextStatus('PENDING', 'pay') // 'PAID'
 * nextStatus('PAID', 'pay') // undefined: already paid, nothing to do
 */
export function nextStatus(from: OrderStatus, transition: OrderTransition): OrderStatus | undefined {
  const rule = TRANSITIONS[transition];
  return rule.from.includes(from) ? rule.to : undefined;
}

/** States from which `transition` is allowed, for building a conditional update. */
export function statusesAllowing(transition: OrderTransition): OrderStatus[] {
  return [...TRANSITIONS[transition].from];
}
