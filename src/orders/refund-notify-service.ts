import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Metrics } from '../observability/metrics.js';
import { NotificationError } from '../wechat/errors.js';
import { notifyReply } from '../wechat/v2/notify.js';
import { verifyRefundNotification } from '../wechat/v2/refund-notify.js';
import type { NotifyOutcome } from './notify-service.js';
import type { AnomalyStorePort } from './ports.js';
import { fromV2RefundStatus } from './refund-gateway-v2.js';
import type { RefundService } from './refund-service.js';

export interface RefundNotifyDeps {
  refunds: Pick<RefundService, 'findByOutRefundNo' | 'applyReport'>;
  anomalies: AnomalyStorePort;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  settings: { appid: string; mchId: string; mchKey: string };
}

/**
 * WeChat's v2 refund notification (《退款结果通知》): no signature; it is authentic when `req_info`
 * decrypts under our key (AES-256-ECB, src/wechat/v2/refund-notify.ts). Then our appid and
 * mch_id, a refund we saved, its amount, and one conditional update out of PROCESSING. The
 * SUCCESS reply is built only after that has committed; anything else asks WeChat to send again.
 */
export function createRefundNotifyService(deps: RefundNotifyDeps) {
  const { log, metrics, settings } = deps;
  const outcome = (ok: boolean, what: string, message?: string): NotifyOutcome => {
    metrics.notification(`refund_${what}`);
    return { ok, reply: notifyReply(ok, message), outcome: what };
  };

  return async function handle(raw: Buffer): Promise<NotifyOutcome> {
    let n: ReturnType<typeof verifyRefundNotification>;
    try {
      n = verifyRefundNotification(raw, { key: settings.mchKey });
    } catch (err) {
      if (!(err instanceof NotificationError)) throw err;
      log.warn(
        { code: err.code, field: err.field },
        'refund notification rejected before trusting any field',
      );
      return outcome(false, err.code === 'DECRYPT_ERROR' ? 'bad_decrypt' : 'malformed', 'FORMAT_ERROR');
    }
    if (n.appid !== settings.appid || n.mchId !== settings.mchId) {
      log.warn({ outRefundNo: n.outRefundNo }, 'refund notification names another appid or mch_id');
      return outcome(false, 'wrong_merchant', 'APPID_MCHID_MISMATCH');
    }
    const refund = await deps.refunds.findByOutRefundNo(n.outRefundNo);
    if (!refund) {
      await deps.anomalies.record(
        {
          kind: 'unknown_out_refund_no',
          ref: n.outRefundNo,
          data: { outTradeNo: n.outTradeNo, refundFee: n.refundFee, status: n.refundStatus },
        },
        deps.clock.now(),
      );
      log.error({ outRefundNo: n.outRefundNo }, 'refund notification for a refund we do not know');
      return outcome(false, 'unknown_refund', 'REFUND_NOT_FOUND');
    }
    const report = {
      outRefundNo: n.outRefundNo,
      outTradeNo: n.outTradeNo,
      refundId: n.refundId,
      refundFee: n.refundFee,
      status: fromV2RefundStatus(n.refundStatus),
    };
    const applied = await deps.refunds.applyReport(refund, report, 'notification');
    return outcome(true, applied.changed ? 'settled' : 'duplicate');
  };
}
