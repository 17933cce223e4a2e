import type { Metrics } from '../observability/metrics.js';
import { NotificationError } from '../wechat/errors.js';
import { notifyReply } from '../wechat/v2/notify.js';
import { verifyRefundNotification } from '../wechat/v2/refund-notify.js';
import { createNotifiedRefundSettlement, type NotifiedRefundDeps } from './notified-refund.js';
import type { NotifyOutcome } from './notify-service.js';
import { fromV2RefundStatus } from './refund-gateway-v2.js';

export interface RefundNotifyDeps extends NotifiedRefundDeps {
  metrics: Metrics;
  settings: { appid: string; mchId: string; mchKey: string };
}

/** The `return_msg` of a FAIL reply (WeChat keeps it in its delivery log; it asks for a retry). */
const REFUSAL_MESSAGES = { unknown_refund: 'REFUND_NOT_FOUND', mismatch: 'REFUND_MISMATCH' } as const;

/**
 * WeChat's v2 refund notification (《退款结果通知》): no signature; it is authentic when `req_info`
 * decrypts under our key (AES-256-ECB, src/wechat/v2/refund-notify.ts). Then our appid and
 * mch_id, and notified-refund.ts, the same path as v3's `REFUND.*` events: a refund we saved, its
 * amount and order, one conditional update out of PROCESSING. The SUCCESS reply is built only
 * after that has committed; anything else asks WeChat to send again.
 */
export function createRefundNotifyService(deps: RefundNotifyDeps) {
  const { log, metrics, settings } = deps;
  const settleNotifiedRefund = createNotifiedRefundSettlement(deps);
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
    const result = await settleNotifiedRefund({
      outRefundNo: n.outRefundNo,
      outTradeNo: n.outTradeNo,
      refundId: n.refundId,
      refundFee: n.refundFee,
      status: fromV2RefundStatus(n.refundStatus),
    });
    return outcome(result.ok, result.outcome, result.ok ? undefined : REFUSAL_MESSAGES[result.outcome]);
  };
}
