/**
 * The API v2 part of the composition root (src/main.ts): one v2 client behind the payment and
 * refund gateways. Built only when the service runs on v2; in v3 mode nothing calls a v2 API.
 */
import type { Clock } from './clock.js';
import type { WechatConfig } from './config.js';
import { createV2Gateway } from './orders/gateway-v2.js';
import type { PaymentGateway } from './orders/ports.js';
import type { RefundGateway } from './orders/refund-gateway.js';
import { createV2RefundGateway, refundNotifyUrlFor } from './orders/refund-gateway-v2.js';
import type { BillSource } from './reconcile/bill-source.js';
import { createV2BillSource } from './reconcile/bill-source.js';
import { createV2Client } from './wechat/v2/client.js';

export interface V2Payments {
  /** Its `shutdown()` closes the client both gateways share. */
  gateway: PaymentGateway;
  /** 《申请退款》 over mutual TLS; refund notifications come to `POST /payment/refundnotify`. */
  refundGateway: RefundGateway;
  /** 《下载交易账单》 for the daily reconciliation. */
  bills: BillSource;
}

export function createV2Payments(
  wechat: WechatConfig,
  deps: {
    clock: Clock;
    /** Trust this CA for WeChat's hosts instead of the system store (tests against an HTTPS simulator). */
    wechatCa?: string;
  },
): V2Payments {
  const { wechatCa } = deps;
  const client = createV2Client({
    baseUrl: wechat.payBaseUrl,
    appid: wechat.appid,
    mchId: wechat.mchId,
    key: wechat.mchKey,
    signType: wechat.signType,
    timeoutMs: wechat.timeoutMs,
    ...(wechatCa && { ca: wechatCa }),
    // 《申请退款》 is mutual TLS: the merchant certificate is presented on /secapi/ calls only.
    ...(wechat.mchCert && { clientCert: { ...wechat.mchCert, ...(wechatCa && { ca: wechatCa }) } }),
  });
  return {
    gateway: createV2Gateway({ client, clock: deps.clock, settings: wechat }),
    refundGateway: createV2RefundGateway(client, { notifyUrl: refundNotifyUrlFor(wechat.notifyUrl) }),
    bills: createV2BillSource(client),
  };
}
