import type { Clock } from '../clock.js';
import type { V2Client } from '../wechat/v2/client.js';
import { formatWechatTime } from '../wechat/v2/fields.js';
import { requestPaymentParams } from '../wechat/v2/pay-params.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import type { PaymentGateway } from './ports.js';
import { evidenceFromV2Query } from './v2-evidence.js';

export interface V2GatewayDeps {
  client: Pick<V2Client, 'unifiedOrder' | 'orderQuery' | 'closeOrder' | 'close'>;
  clock: Clock;
  settings: { appid: string; mchId: string; mchKey: string; signType: V2SignType; notifyUrl: string };
}

/**
 * The payment gateway over API v2 (XML, MD5/HMAC-SHA256): unifiedorder, orderquery and
 * closeorder through the v2 client. The saved request keeps the field names and formats it has
 * always had, so orders saved before the gateway existed resume unchanged.
 */
export function createV2Gateway(deps: V2GatewayDeps): PaymentGateway {
  const { client, clock, settings } = deps;
  return {
    version: 'v2',
    prepayRequest(order, clientIp) {
      return {
        body: order.description,
        outTradeNo: order.outTradeNo,
        totalFee: String(order.amount),
        spbillCreateIp: clientIp,
        notifyUrl: settings.notifyUrl,
        openid: order.openid,
        timeExpire: formatWechatTime(order.expiresAt),
        // The algorithm the client signs unifiedorder with, so the order's notification is later
        // verified with it even if WECHAT_SIGN_TYPE changes meanwhile (v2-evidence.ts orderSignType).
        signType: settings.signType,
        ...(order.attach && { attach: order.attach }),
      };
    },
    async prepay(request) {
      const result = await client.unifiedOrder({
        body: request.body!,
        outTradeNo: request.outTradeNo!,
        totalFee: Number(request.totalFee),
        spbillCreateIp: request.spbillCreateIp!,
        notifyUrl: request.notifyUrl!,
        openid: request.openid!,
        tradeType: 'JSAPI',
        timeExpire: request.timeExpire!,
        ...(request.attach && { attach: request.attach }),
      });
      return { prepayId: result.prepayId };
    },
    payParams(prepayId) {
      return requestPaymentParams({
        appid: settings.appid,
        prepayId,
        key: settings.mchKey,
        signType: settings.signType,
        clock,
      });
    },
    async query(outTradeNo) {
      const result = await client.orderQuery({ outTradeNo });
      const { tradeState } = result;
      return tradeState === 'SUCCESS' || tradeState === 'REFUND'
        ? {
            tradeState,
            evidence: evidenceFromV2Query(result, { appid: settings.appid, mchId: settings.mchId }),
          }
        : { tradeState };
    },
    close(outTradeNo) {
      return client.closeOrder({ outTradeNo });
    },
    shutdown() {
      return client.close();
    },
  };
}
