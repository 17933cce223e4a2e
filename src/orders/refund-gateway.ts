import type { FinalRefundStatus, RefundStatus } from './refund.js';

/**
 * What the refund service needs from WeChat, whichever API version speaks to it. The v2 adapter
 * is refund-gateway-v2.ts (mutual TLS); a v3 adapter answers the same two questions. Failures
 * are the protocol layer's errors (src/wechat/errors.ts), which both versions share: a
 * WechatRejectedError is WeChat's final word on this call, a WechatRetryableError or
 * WechatUnknownOutcomeError means "ask again with the same out_refund_no".
 */
export interface RefundGateway {
  /**
   * Asks WeChat to refund, or asks again: the same out_refund_no with the same amounts is the
   * same refund at WeChat ("refunded once"), so a retry after a timeout can never pay twice.
   */
  submit(refund: RefundSubmission): Promise<{ refundId: string }>;
  /** WeChat's view of one refund; `undefined` when WeChat has no such refund (REFUNDNOTEXIST). */
  query(outRefundNo: string): Promise<RefundReport | undefined>;
}

export interface RefundSubmission {
  outTradeNo: string;
  outRefundNo: string;
  /** The order's amount, fen: WeChat checks it against the payment. */
  totalFee: number;
  refundFee: number;
  reason: string;
}

/** What WeChat says about a refund, from a query or a notification, in our own words. */
export interface RefundReport {
  outRefundNo: string;
  outTradeNo?: string;
  refundId: string;
  refundFee: number;
  status: RefundStatus;
}

/** WeChat's final refund states in our words (v2 REFUNDCLOSE and v3 CLOSED are both CLOSED). */
export type { FinalRefundStatus };
