import { WechatRejectedError } from '../wechat/errors.js';
import type { V2Client, V2RefundStatus } from '../wechat/v2/client.js';
import type { RefundStatus } from './refund.js';
import type { RefundGateway } from './refund-gateway.js';

/**
 * WeChat's v2 refund states in ours; exhaustive, so a new one fails the build, not a refund.
 *
 * @example
 * fromV2RefundStatus('REFUNDCLOSE') // 'CLOSED'
 */
export function fromV2RefundStatus(status: V2RefundStatus): RefundStatus {
  switch (status) {
    case 'PROCESSING':
    case 'SUCCESS':
    case 'CHANGE':
      return status;
    case 'REFUNDCLOSE':
      return 'CLOSED';
    default: {
      const unknown: never = status;
      throw new Error(`unhandled v2 refund status ${String(unknown)}`);
    }
  }
}

/**
 * The refund gateway over API v2: 《申请退款》 (`/secapi/pay/refund`, mutual TLS with the merchant
 * certificate the client was given) and 《查询退款》. `notifyUrl` is where WeChat sends the refund
 * notification (our `POST /payment/refundnotify`).
 */
export function createV2RefundGateway(
  client: Pick<V2Client, 'refund' | 'refundQuery'>,
  settings: { notifyUrl: string },
): RefundGateway {
  return {
    async submit(r) {
      const result = await client.refund({
        outTradeNo: r.outTradeNo,
        outRefundNo: r.outRefundNo,
        totalFee: r.totalFee,
        refundFee: r.refundFee,
        refundDesc: r.reason || undefined,
        notifyUrl: settings.notifyUrl,
      });
      return { refundId: result.refundId };
    },

    async query(outRefundNo) {
      try {
        const result = await client.refundQuery({ outRefundNo });
        const record = result.refunds.find((x) => x.outRefundNo === outRefundNo);
        if (!record) return undefined;
        return {
          outRefundNo,
          outTradeNo: result.fields.out_trade_no,
          refundId: record.refundId,
          refundFee: record.refundFee,
          status: fromV2RefundStatus(record.status),
        };
      } catch (err) {
        if (err instanceof WechatRejectedError && err.failure.errCode === 'REFUNDNOTEXIST') return undefined;
        throw err;
      }
    },
  };
}

/**
 * The v2 refund notification URL beside the payment one: `…/payment/wxnotify` gives
 * `…/payment/refundnotify`, whatever prefix a proxy adds in front.
 *
 * @example
 * refundNotifyUrlFor('https://shop.example/pay/payment/wxnotify') // 'https://shop.example/pay/payment/refundnotify'
 */
export function refundNotifyUrlFor(paymentNotifyUrl: string): string {
  return new URL('refundnotify', paymentNotifyUrl).toString();
}
