import type { SimBehaviour } from '../config.js';
import { currentState, TRADE_STATE_DESC } from '../order-rules.js';
import type { RefundStatus, SimOrder, SimRefund, TradeState } from '../state.js';

/**
 * The v3 JSON objects the simulator answers and notifies: the Transaction (《查询订单》) and the
 * Refund (《申请退款》/《查询单笔退款》), built from the one order store v2
 * and v3 share. Times are RFC 3339 in Beijing time, as WeChat writes them.
 */

const BEIJING_MS = 8 * 3600 * 1000;

/**
 * @example
 * rfc3339(Date.UTC(2024, 0, 1, 4, 5, 30)) // '2024-01-01T12:05:30+08:00'
 */
export function rfc3339(epochMs: number): string {
  return `${new Date(Math.floor(epochMs / 1000) * 1000 + BEIJING_MS).toISOString().slice(0, 19)}+08:00`;
}

/** RFC 3339 with an offset → epoch ms, or `undefined` when malformed. */
export function parseRfc3339(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export const V3_REFUND_STATUS: Readonly<
  Record<RefundStatus, 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED'>
> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  CHANGE: 'ABNORMAL',
  REFUNDCLOSE: 'CLOSED',
};

const isPaid = (state: TradeState) => state === 'SUCCESS' || state === 'REFUND';

/** The Transaction object of an order as it stands `now`. */
export function transactionOf(
  order: SimOrder,
  now: number,
  behaviour: SimBehaviour,
): Record<string, unknown> {
  const state = currentState(order, now, behaviour);
  const out: Record<string, unknown> = {
    appid: order.appid,
    mchid: order.mchId,
    out_trade_no: order.outTradeNo,
    trade_type: order.tradeType,
    trade_state: state,
    trade_state_desc: TRADE_STATE_DESC[state],
    payer: { openid: order.openid ?? '' },
    amount: { total: order.totalFee, currency: 'CNY' },
  };
  if (!isPaid(state)) return out;
  const payerTotal = order.cashFee ?? order.totalFee;
  Object.assign(out, {
    transaction_id: order.transactionId,
    bank_type: order.bankType,
    attach: order.attach ?? '',
    success_time: rfc3339(order.timeEnd ?? order.createdAt),
    amount: { total: order.totalFee, payer_total: payerTotal, currency: 'CNY', payer_currency: 'CNY' },
  });
  if (order.couponFee > 0) {
    out.promotion_detail = [
      {
        coupon_id: `2000000${order.transactionId?.slice(-13) ?? '0'}`,
        name: '模拟器代金券',
        scope: 'GLOBAL',
        type: 'CASH',
        amount: order.couponFee,
        wechatpay_contribute: 0,
        merchant_contribute: order.couponFee,
        other_contribute: 0,
        currency: 'CNY',
      },
    ];
  }
  return out;
}

/** The Refund object answered by 《申请退款》 and 《查询单笔退款》. */
export function refundOf(order: SimOrder, refund: SimRefund): Record<string, unknown> {
  const payerTotal = order.cashFee ?? order.totalFee;
  const out: Record<string, unknown> = {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: order.transactionId ?? '',
    out_trade_no: order.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    create_time: rfc3339(refund.createdAt),
    status: V3_REFUND_STATUS[refund.status],
    funds_account: refund.refundAccount === 'REFUND_SOURCE_RECHARGE_FUNDS' ? 'AVAILABLE' : 'UNSETTLED',
    amount: {
      total: order.totalFee,
      refund: refund.refundFee,
      from: [],
      payer_total: payerTotal,
      payer_refund: refund.cashRefundFee,
      settlement_refund: refund.refundFee,
      settlement_total: order.totalFee,
      discount_refund: refund.refundFee - refund.cashRefundFee,
      currency: 'CNY',
    },
    promotion_detail: [],
  };
  if (refund.successAt !== undefined) out.success_time = rfc3339(refund.successAt);
  return out;
}

/** The decrypted resource of a `REFUND.*` notification (《退款结果通知》). */
export function refundResourceOf(order: SimOrder, refund: SimRefund): Record<string, unknown> {
  const out: Record<string, unknown> = {
    mchid: order.mchId,
    transaction_id: order.transactionId ?? '',
    out_trade_no: order.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    refund_status: V3_REFUND_STATUS[refund.status],
    user_received_account: '支付用户零钱',
    amount: {
      total: order.totalFee,
      refund: refund.refundFee,
      payer_total: order.cashFee ?? order.totalFee,
      payer_refund: refund.cashRefundFee,
    },
  };
  if (refund.successAt !== undefined) out.success_time = rfc3339(refund.successAt);
  return out;
}
