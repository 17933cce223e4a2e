import { createNonce, formatWechatTime } from '../wechat/v2/fields.js';
import { buildPaymentNotification } from '../wechat/v2/notify.js';
import { buildRefundNotification } from '../wechat/v2/refund-notify.js';
import type { MerchantConfig } from './config.js';
import type { SimOrder, SimRefund } from './state.js';

/**
 * The XML bodies WeChat posts to a merchant: the signed payment notification (《支付结果通知》) and
 * the refund notification whose details travel encrypted in `req_info` (《退款结果通知》).
 */

/** Fields of the payment notification, before signing. */
export function paymentNotificationFields(order: SimOrder): Record<string, string> {
  const cashFee = order.cashFee ?? order.totalFee;
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: order.appid,
    mch_id: order.mchId,
    nonce_str: createNonce(),
    result_code: 'SUCCESS',
    openid: order.openid ?? '',
    is_subscribe: 'N',
    trade_type: order.tradeType,
    bank_type: order.bankType,
    total_fee: String(order.totalFee),
    fee_type: 'CNY',
    cash_fee: String(cashFee),
    transaction_id: order.transactionId ?? '',
    out_trade_no: order.outTradeNo,
    time_end: formatWechatTime(order.timeEnd ?? order.createdAt),
  };
  if (order.deviceInfo) fields.device_info = order.deviceInfo;
  if (order.attach) fields.attach = order.attach;
  if (order.couponFee > 0) {
    Object.assign(fields, {
      coupon_fee: String(order.couponFee),
      coupon_count: '1',
      coupon_type_0: 'CASH',
      coupon_id_0: `2000000${order.transactionId?.slice(-13) ?? '0'}`,
      coupon_fee_0: String(order.couponFee),
    });
  }
  return fields;
}

/** The signed payment notification, signed with the order's algorithm (`sign_type` added for HMAC). */
export function paymentNotificationBody(order: SimOrder, merchant: MerchantConfig): string {
  return buildPaymentNotification(paymentNotificationFields(order), merchant.key, order.signType);
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time, the format of refund success times. */
export function formatRefundTime(epochMs: number): string {
  const t = formatWechatTime(epochMs);
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`;
}

/** The plaintext of `req_info`: a `<root>` document (《退款结果通知》). */
export function refundReqInfoFields(order: SimOrder, refund: SimRefund): Record<string, string> {
  const fields: Record<string, string> = {
    transaction_id: order.transactionId ?? '',
    out_trade_no: order.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    total_fee: String(order.totalFee),
    settlement_total_fee: String(order.totalFee),
    refund_fee: String(refund.refundFee),
    settlement_refund_fee: String(refund.refundFee),
    cash_refund_fee: String(refund.cashRefundFee),
    refund_status: refund.status,
    refund_recv_accout: '支付用户零钱',
    refund_account: refund.refundAccount,
    refund_request_source: 'API',
  };
  if (refund.successAt !== undefined) fields.success_time = formatRefundTime(refund.successAt);
  return fields;
}

/** The refund notification: unsigned outer XML, authenticated by `req_info` decrypting (《退款结果通知》). */
export function refundNotificationBody(order: SimOrder, refund: SimRefund, merchant: MerchantConfig): string {
  return buildRefundNotification(
    { appid: order.appid, mch_id: order.mchId, nonce_str: createNonce() },
    refundReqInfoFields(order, refund),
    merchant.key,
  );
}
