/**
 * A genuine refund notification, as WeChat would send it for either API version, built with
 * the merchant's real keys: v2 `req_info` encrypted with the v2 key and posted to
 * `POST /payment/refundnotify`; v3 a `REFUND.*` event encrypted with the APIv3 key, signed with
 * the WeChat Pay key, posted to `POST /payment/wxnotify/v3`. Tests use it to say what the
 * simulator never would (an unknown refund, another amount).
 */
import { randomUUID } from 'node:crypto';
import { buildRefundNotification } from '../../src/wechat/v2/refund-notify.js';
import { buildV3Notification } from '../../src/wechat/v3/notify.js';
import { lowerCaseHeaders } from '../fixtures/v3-keys.js';
import { CREDENTIALS, type Harness, V3_CREDENTIALS } from './harness.js';

export interface RefundNotice {
  outTradeNo: string;
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  /** Default: ours. */
  mchId?: string;
}

export interface RefundMessage {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** v3: the event id (v2 notifications have none). */
  id?: string;
}

/** The notification of a successful refund, signed (v3) or encrypted (v2) as WeChat would. */
export function refundNotification(h: Harness, notice: RefundNotice): RefundMessage {
  return h.version === 'v3' ? v3Message(h, notice) : v2Message(notice);
}

/**
 * Posts `message`; `accepted` is what WeChat would read from the answer, `code` why not: v3's
 * `{code}`, v2's `return_msg`.
 */
export async function postRefundNotification(
  h: Harness,
  message: RefundMessage,
): Promise<{ accepted: boolean; status: number; code: string | undefined }> {
  const res = await fetch(`${h.serviceUrl}${message.path}`, {
    method: 'POST',
    headers: message.headers,
    body: message.body,
  });
  const text = await res.text();
  if (h.version === 'v3') {
    const code = text ? (JSON.parse(text) as { code?: string }).code : undefined;
    return { accepted: res.status === 204, status: res.status, code };
  }
  const code = /<return_msg><!\[CDATA\[([^\]]*)\]\]>/.exec(text)?.[1];
  const accepted = res.status === 200 && text.includes('SUCCESS]]></return_code>');
  return { accepted, status: res.status, code: accepted ? undefined : code };
}

/** Builds and posts the notification of a successful refund. */
export function sendRefundNotification(h: Harness, notice: RefundNotice) {
  return postRefundNotification(h, refundNotification(h, notice));
}

function v2Message(n: RefundNotice): RefundMessage {
  const body = buildRefundNotification(
    { appid: CREDENTIALS.appid, mch_id: n.mchId ?? CREDENTIALS.mchId, nonce_str: randomUUID().slice(0, 16) },
    {
      transaction_id: '4200000000000000000000000001',
      out_trade_no: n.outTradeNo,
      refund_id: '50300000000000000000000000001',
      out_refund_no: n.outRefundNo,
      total_fee: String(n.totalFee),
      refund_fee: String(n.refundFee),
      settlement_refund_fee: String(n.refundFee),
      refund_status: 'SUCCESS',
      success_time: '2024-01-01 13:00:00',
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_request_source: 'API',
    },
    CREDENTIALS.key,
  );
  return { path: '/payment/refundnotify', headers: { 'content-type': 'text/xml' }, body };
}

function v3Message(h: Harness, n: RefundNotice): RefundMessage {
  const id = `EV-${randomUUID()}`;
  const built = buildV3Notification({
    id,
    createTime: '2024-01-01T13:00:01+08:00',
    eventType: 'REFUND.SUCCESS',
    summary: '退款成功',
    originalType: 'refund',
    associatedData: 'refund',
    resource: {
      mchid: n.mchId ?? CREDENTIALS.mchId,
      transaction_id: '4200000000000000000000000001',
      out_trade_no: n.outTradeNo,
      refund_id: '50300000000000000000000000001',
      out_refund_no: n.outRefundNo,
      refund_status: 'SUCCESS',
      success_time: '2024-01-01T13:00:00+08:00',
      user_received_account: '支付用户零钱',
      amount: { total: n.totalFee, refund: n.refundFee, payer_total: n.totalFee, payer_refund: n.refundFee },
    },
    apiV3Key: V3_CREDENTIALS.apiV3Key,
    signer: h.paySigner,
    timestamp: Math.floor(h.clock.now() / 1000),
  });
  return {
    path: '/payment/wxnotify/v3',
    headers: { ...lowerCaseHeaders(built.headers), 'content-type': 'application/json' },
    body: built.body,
    id,
  };
}
