import type { Clock } from '../clock.js';
import { WechatRejectedError } from '../wechat/errors.js';
import { formatWechatTime } from '../wechat/v2/fields.js';
import type { V3Client } from '../wechat/v3/client.js';
import { v3PayParams } from '../wechat/v3/pay-params.js';
import type { PaymentGateway } from './ports.js';
import { evidenceFromV3Transaction } from './v3-evidence.js';

export interface V3GatewayDeps {
  client: Pick<V3Client, 'jsapi' | 'queryByOutTradeNo' | 'closeOrder' | 'close'>;
  clock: Clock;
  settings: { appid: string; notifyUrl: string; merchantPrivateKey: string };
}

/**
 * `yyyy-MM-ddTHH:mm:ss+08:00`, the RFC 3339 form v3 takes for `time_expire`, in Beijing time.
 *
 * @example
 * beijingRfc3339(Date.UTC(2024, 0, 1, 4, 5, 30)) // '2024-01-01T12:05:30+08:00'
 */
export function beijingRfc3339(epochMs: number): string {
  const t = formatWechatTime(epochMs);
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}+08:00`;
}

/**
 * v3 spells some codes with underscores where v2 does not (`ORDER_NOT_EXIST`, `ORDER_CLOSED`) and
 * WeChat's own tables mix both; the order services speak v2's spelling, so underscores go.
 */
async function normalisingRejections<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WechatRejectedError && err.failure.errCode.includes('_')) {
      throw new WechatRejectedError({ ...err.failure, errCode: err.failure.errCode.replace(/_/g, '') });
    }
    throw err;
  }
}

/**
 * The payment gateway over API v3 (JSON, RSA): `POST /v3/pay/transactions/jsapi`, the query by
 * out_trade_no and the close, through the v3 client, which signs every request and verifies
 * every response. The saved request is v3's own record (`api: 'v3'`), sent unchanged on retry.
 */
export function createV3Gateway(deps: V3GatewayDeps): PaymentGateway {
  const { client, clock, settings } = deps;
  return {
    version: 'v3',
    prepayRequest(order, clientIp) {
      return {
        api: 'v3',
        description: order.description,
        outTradeNo: order.outTradeNo,
        total: String(order.amount),
        openid: order.openid,
        notifyUrl: settings.notifyUrl,
        timeExpire: beijingRfc3339(order.expiresAt),
        payerClientIp: clientIp,
        ...(order.attach && { attach: order.attach }),
      };
    },
    prepay(request) {
      // An order saved by v2 before the switch keeps its fields; only their v3 spelling differs.
      const v2 = request.api !== 'v3';
      return normalisingRejections(() =>
        client.jsapi({
          description: (v2 ? request.body : request.description)!,
          outTradeNo: request.outTradeNo!,
          total: Number(v2 ? request.totalFee : request.total),
          openid: request.openid!,
          notifyUrl: request.notifyUrl!,
          ...(request.timeExpire && !v2 && { timeExpire: request.timeExpire }),
          ...(request.attach && { attach: request.attach }),
          ...((request.payerClientIp ?? request.spbillCreateIp) && {
            payerClientIp: (request.payerClientIp ?? request.spbillCreateIp)!,
          }),
        }),
      );
    },
    payParams(prepayId) {
      return v3PayParams({
        appid: settings.appid,
        prepayId,
        privateKey: settings.merchantPrivateKey,
        timeStamp: String(Math.floor(clock.now() / 1000)),
      });
    },
    async query(outTradeNo) {
      const t = await normalisingRejections(() => client.queryByOutTradeNo(outTradeNo));
      const tradeState = t.trade_state;
      return tradeState === 'SUCCESS' || tradeState === 'REFUND'
        ? { tradeState, evidence: evidenceFromV3Transaction(t, 'query') }
        : { tradeState };
    },
    close(outTradeNo) {
      return normalisingRejections(() => client.closeOrder(outTradeNo));
    },
    shutdown() {
      return client.close();
    },
  };
}
