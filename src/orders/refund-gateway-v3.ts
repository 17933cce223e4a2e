import { WechatRejectedError } from '../wechat/errors.js';
import type { V3Client } from '../wechat/v3/client.js';
import type { V3RefundStatus } from '../wechat/v3/responses.js';
import type { RefundStatus } from './refund.js';
import type { RefundGateway } from './refund-gateway.js';

/**
 * WeChat's v3 refund states in ours; exhaustive, so a new one fails the build, not a refund.
 *
 * @example
 * fromV3RefundStatus('ABNORMAL') // 'CHANGE'
 */
export function fromV3RefundStatus(status: V3RefundStatus): RefundStatus {
  switch (status) {
    case 'PROCESSING':
    case 'SUCCESS':
    case 'CLOSED':
      return status;
    case 'ABNORMAL':
      return 'CHANGE';
    default: {
      const unknown: never = status;
      throw new Error(`unhandled v3 refund status ${String(unknown)}`);
    }
  }
}

/**
 * The refund gateway over API v3: 《退款申请》 (`POST /v3/refund/domestic/refunds`, signed with the
 * merchant key; no mutual TLS in v3) and 《查询单笔退款》. WeChat's `REFUND.*` notifications settle
 * the refund on the v3 notification route; one whose notification never came is settled by the
 * refund reconciler's query.
 */
export function createV3RefundGateway(
  client: Pick<V3Client, 'refund' | 'queryRefund'>,
  settings: { notifyUrl: string },
): RefundGateway {
  return {
    async submit(r) {
      const result = await client.refund({
        outTradeNo: r.outTradeNo,
        outRefundNo: r.outRefundNo,
        total: r.totalFee,
        refund: r.refundFee,
        ...(r.reason ? { reason: r.reason } : {}),
        notifyUrl: settings.notifyUrl,
      });
      return { refundId: result.refund_id };
    },

    async query(outRefundNo) {
      try {
        const result = await client.queryRefund(outRefundNo);
        return {
          outRefundNo,
          outTradeNo: result.out_trade_no,
          refundId: result.refund_id,
          refundFee: result.amount.refund,
          status: fromV3RefundStatus(result.status),
        };
      } catch (err) {
        if (err instanceof WechatRejectedError && err.failure.errCode === 'RESOURCE_NOT_EXISTS')
          return undefined;
        throw err;
      }
    },
  };
}
