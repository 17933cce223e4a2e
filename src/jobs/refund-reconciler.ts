import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Refund } from '../orders/refund.js';
import type { RefundService } from '../orders/refund-service.js';
import type { RefundStore } from '../orders/refund-store.js';
import { intervalJob } from './interval-job.js';

export interface RefundReconcilerDeps {
  refunds: Pick<RefundStore, 'claimForReconcile'>;
  service: Pick<RefundService, 'reconcile'>;
  clock: Clock;
  log: Logger;
  /** The order reconciler's settings (RECONCILE_*): the same pace for refunds. */
  settings: { afterMs: number; intervalMs: number; batch: number; leaseMs?: number };
  owner?: string;
}

export interface RefundCycleReport {
  claimed: number;
  settled: number;
  failed: number;
}

/**
 * Settles refunds stuck in PROCESSING: those WeChat never accepted (a timeout, NOTENOUGH) are
 * sent again with the same out_refund_no; accepted ones are asked about (《查询退款》), which
 * settles a refund whose notification was lost. Claims are leased rows (FOR UPDATE SKIP LOCKED
 * on PostgreSQL), as the order reconciler's, so instances share the work; the lease is the
 * back-off between two questions about one refund.
 */
export function createRefundReconciler(deps: RefundReconcilerDeps) {
  const { clock, log, settings } = deps;
  const owner = deps.owner ?? randomUUID();
  const leaseMs = settings.leaseMs ?? Math.max(settings.intervalMs * 2, 30_000);

  async function runOnce(): Promise<RefundCycleReport> {
    const now = clock.now();
    const claimed: Refund[] = await deps.refunds.claimForReconcile({
      now,
      createdBefore: now - settings.afterMs,
      limit: settings.batch,
      leaseMs,
      owner,
    });
    const report: RefundCycleReport = { claimed: claimed.length, settled: 0, failed: 0 };
    for (const refund of claimed) {
      try {
        const after = await deps.service.reconcile(refund);
        if (after.status !== 'PROCESSING') report.settled++;
      } catch (err) {
        report.failed++;
        log.warn(
          { err, outRefundNo: refund.outRefundNo },
          'refund reconciler could not settle a refund; will retry',
        );
      }
    }
    if (report.claimed > 0) log.info(report, 'refund reconciler cycle');
    return report;
  }

  return {
    runOnce,
    ...intervalJob(runOnce, {
      intervalMs: settings.intervalMs,
      log,
      name: 'refund reconciler',
      failed: { claimed: 0, settled: 0, failed: 1 },
    }),
  };
}

export type RefundReconciler = ReturnType<typeof createRefundReconciler>;
