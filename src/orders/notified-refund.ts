import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AnomalyStorePort } from './ports.js';
import type { RefundReport } from './refund-gateway.js';
import type { RefundService } from './refund-service.js';

export interface NotifiedRefundDeps {
  refunds: Pick<RefundService, 'findByOutRefundNo' | 'applyReport'>;
  anomalies: AnomalyStorePort;
  clock: Clock;
  log: Logger;
}

/** What became of a verified refund notification, whichever API version carried it. */
export type NotifiedRefundOutcome =
  | { ok: true; outcome: 'settled' | 'duplicate' }
  | { ok: false; outcome: 'unknown_refund' | 'mismatch' };

/**
 * What every verified refund notification goes through, v2 (《退款结果通知》) or v3 (`REFUND.*`
 * events), once the caller has checked it is authentic and names our merchant: a refund we saved
 * (by `out_refund_no`) → the refund service's `applyReport`, the same code a refund query uses
 * (the amount and the order must be the ones we saved; then one conditional update out of
 * PROCESSING). It resolves only after that has committed, so the caller acknowledges only what
 * is durable.
 *
 * Refusals change no refund: an unknown `out_refund_no` is kept as an `unknown_out_refund_no`
 * anomaly, a report that does not match as `refund_mismatch` (each once, however often WeChat
 * sends it), and WeChat is asked to send again, so a person who puts things right can still
 * have the notification applied by a later retry.
 */
export function createNotifiedRefundSettlement(deps: NotifiedRefundDeps) {
  const { refunds, anomalies, clock, log } = deps;

  return async function settleNotifiedRefund(
    report: RefundReport & { outTradeNo: string },
  ): Promise<NotifiedRefundOutcome> {
    const refund = await refunds.findByOutRefundNo(report.outRefundNo);
    if (!refund) {
      await anomalies.record(
        {
          kind: 'unknown_out_refund_no',
          ref: report.outRefundNo,
          data: { outTradeNo: report.outTradeNo, refundFee: report.refundFee, status: report.status },
        },
        clock.now(),
      );
      log.error({ outRefundNo: report.outRefundNo }, 'refund notification for a refund we do not know');
      return { ok: false, outcome: 'unknown_refund' };
    }
    const applied = await refunds.applyReport(refund, report, 'notification');
    if (applied.mismatch) return { ok: false, outcome: 'mismatch' };
    return { ok: true, outcome: applied.changed ? 'settled' : 'duplicate' };
  };
}

export type SettleNotifiedRefund = ReturnType<typeof createNotifiedRefundSettlement>;
