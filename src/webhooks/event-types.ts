/**
 * The webhook events weapp-pay sends, as a receiver sees them. Shared by the service (which
 * builds them) and by `weapp-pay/webhooks` (which types what verifyWebhook returns), so the two
 * cannot drift. Times in bodies are ISO 8601 strings; `created` is Unix seconds, as in the
 * signature header. Money is integer fen.
 */

export const WEBHOOK_EVENT_TYPES = [
  'payment.succeeded',
  'payment.closed',
  'payment.review',
  'refund.succeeded',
  'refund.failed',
  'reconciliation.mismatch',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A payment (an order) as the API shows it. */
export interface PaymentObject {
  object: 'payment';
  id: string;
  outTradeNo: string;
  /** PENDING, PAID, PARTIALLY_REFUNDED, CLOSED, REFUNDED or REVIEW. */
  status: string;
  amount: number;
  currency: 'CNY';
  description: string;
  sku: string;
  quantity: number;
  openid: string;
  transactionId: string | null;
  /** How the payment was learnt: a notification, an order query, or a close answered ORDERPAID. */
  paidSource: string | null;
  /** Fen refunded or being refunded (every refund not CLOSED). */
  refundedAmount: number;
  createdAt: string;
  paidAt: string | null;
  expiresAt: string;
}

/** A refund as the API shows it. */
export interface RefundObject {
  object: 'refund';
  id: string;
  paymentId: string;
  outRefundNo: string;
  amount: number;
  /** SUCCESS, CHANGE (money left but did not reach the payer) or CLOSED for a failed one. */
  status: string;
  reason: string;
  /** WeChat's refund_id, once WeChat accepted the refund. */
  refundId: string | null;
  /** Why the refund failed, when it did (WeChat's error code or a short description). */
  failureReason: string | null;
  createdAt: string;
  settledAt: string | null;
}

/** A difference the daily reconciliation found between WeChat's bill and our own records. */
export interface ReconciliationMismatchObject {
  object: 'reconciliation_mismatch';
  /** The bill's date, YYYY-MM-DD. */
  billDate: string;
  /** What kind of difference, e.g. missing_locally, missing_at_wechat, amount_differs. */
  kind: string;
  outTradeNo: string | null;
  transactionId: string | null;
  /** Anything else the reconciliation records about it. */
  details: Record<string, unknown>;
}

export interface WebhookObjects {
  'payment.succeeded': PaymentObject;
  'payment.closed': PaymentObject;
  'payment.review': PaymentObject;
  'refund.succeeded': RefundObject;
  'refund.failed': RefundObject;
  'reconciliation.mismatch': ReconciliationMismatchObject;
}

/** The body of one webhook POST. Receivers deduplicate on `id`. */
export interface WebhookEventOf<T extends WebhookEventType> {
  /** `evt_…`: the same on every delivery and resend of this event. */
  id: string;
  type: T;
  /** Unix seconds when the change that caused it committed. */
  created: number;
  /** false against the simulator or the demo; true against WeChat's real hosts. */
  livemode: boolean;
  data: { object: WebhookObjects[T] };
}

/** Any event: switch on `type` and `data.object` is typed to match. */
export type WebhookEvent = { [T in WebhookEventType]: WebhookEventOf<T> }[WebhookEventType];
