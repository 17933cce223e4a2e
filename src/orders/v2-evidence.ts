import { parseWechatTime } from '../wechat/v2/fields.js';
import type { PaymentNotification } from '../wechat/v2/notify.js';
import type { OrderQueryResult } from '../wechat/v2/responses.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import type { PaymentEvidence } from './decide.js';
import type { Order } from './order.js';

/** A verified v2 payment notification as version-neutral evidence. */
export function evidenceFromV2Notification(n: PaymentNotification): PaymentEvidence {
  return {
    source: 'notification',
    outTradeNo: n.outTradeNo,
    transactionId: n.transactionId,
    totalFee: n.totalFee,
    currency: n.feeType,
    appid: n.appid,
    mchId: n.mchId,
    paidAt: parseWechatTime(n.timeEnd) ?? null,
    cashFee: n.cashFee,
    raw: withoutSign(n.fields),
  };
}

/** A verified v2 orderquery answer for a paid order (SUCCESS, REFUND) as evidence. */
export function evidenceFromV2Query(
  result: OrderQueryResult,
  merchant: { appid: string; mchId: string },
): PaymentEvidence {
  return {
    source: 'query',
    outTradeNo: result.outTradeNo,
    transactionId: result.transactionId ?? '',
    totalFee: result.totalFee ?? -1,
    currency: result.feeType ?? 'CNY',
    appid: result.fields.appid ?? merchant.appid,
    mchId: result.fields.mch_id ?? merchant.mchId,
    paidAt: (result.timeEnd && parseWechatTime(result.timeEnd)) || null,
    ...(result.cashFee !== undefined && { cashFee: result.cashFee }),
    raw: withoutSign(result.fields),
  };
}

/** The signature proves the fields; it is not one of them, and nobody needs to keep it. */
function withoutSign(fields: Readonly<Record<string, string>>): Record<string, string> {
  const { sign: _sign, ...rest } = fields;
  return rest;
}

/**
 * The v2 algorithm the order was placed with: unifiedorder was signed with it, so WeChat signs
 * the order's notification with it too. Orders saved before the algorithm was stored with the
 * request fall back to the configured one (what they were verified with until now).
 */
export function orderSignType(
  order: Pick<Order, 'prepayRequest'> | undefined,
  configured: V2SignType,
): V2SignType {
  const stored = order?.prepayRequest?.signType;
  return stored === 'MD5' || stored === 'HMAC-SHA256' ? stored : configured;
}
