import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { closeAtWechat } from '../orders/close-at-wechat.js';
import type { OrderServiceDeps } from '../orders/order-service.js';
import type { OrderStorePort } from '../orders/ports.js';
import { intervalJob } from './interval-job.js';

/** 《关闭订单》 advises closing an order only 5 minutes or more after it was created. */
export const CLOSE_MIN_AGE_MS = 5 * 60 * 1000;

export interface ReconcilerDeps extends Pick<OrderServiceDeps, 'pay' | 'settle' | 'metrics' | 'sleep'> {
  orders: OrderStorePort;
  clock: Clock;
  log: Logger;
  settings: {
    /** Query a pending order this long after creation when no notification has settled it. */
    afterMs: number;
    intervalMs: number;
    /** Orders per cycle: with intervalMs this is the reconciler's query rate. */
    batch: number;
    /** After a query, the order is left alone this long (the lease doubles as a back-off). */
    leaseMs?: number;
  };
  /** Identifies this instance in leases; defaults to a random id. */
  owner?: string;
}

export interface CycleReport {
  claimed: number;
  paid: number;
  closed: number;
  failed: number;
}

/**
 * Finds orders whose notification never came and asks WeChat about them; closes those past
 * their expiry. Runs in every instance: claims are leased rows (FOR UPDATE SKIP LOCKED on
 * PostgreSQL), so two instances never query the same order in one cycle.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const { orders, clock, log, settings } = deps;
  const owner = deps.owner ?? randomUUID();
  const leaseMs = settings.leaseMs ?? Math.max(settings.intervalMs * 2, 30_000);

  async function reconcileOne(orderId: string, report: CycleReport): Promise<void> {
    const order = await orders.findById(orderId);
    if (order?.status !== 'PENDING') return;
    const settled = await deps.settle(order, 'query');
    if (settled.status === 'PAID') report.paid++;
    const now = clock.now();
    if (
      settled.status === 'PENDING' &&
      now >= settled.expiresAt &&
      now >= settled.createdAt + CLOSE_MIN_AGE_MS
    ) {
      const closed = await closeAtWechat(settled, deps);
      if (closed.status === 'CLOSED') report.closed++;
      if (closed.status === 'PAID') report.paid++;
    }
  }

  async function runOnce(): Promise<CycleReport> {
    const now = clock.now();
    const claimed = await orders.claimForReconcile({
      now,
      createdBefore: now - settings.afterMs,
      limit: settings.batch,
      leaseMs,
      owner,
    });
    const report: CycleReport = { claimed: claimed.length, paid: 0, closed: 0, failed: 0 };
    // One at a time: the batch size, not concurrency, sets the query rate WeChat sees.
    for (const order of claimed) {
      try {
        await reconcileOne(order.id, report);
      } catch (err) {
        report.failed++;
        log.warn({ err, outTradeNo: order.outTradeNo }, 'reconciler could not settle order; will retry');
      }
    }
    if (report.claimed > 0) log.info(report, 'reconciler cycle');
    return report;
  }

  return {
    runOnce,
    ...intervalJob(runOnce, {
      intervalMs: settings.intervalMs,
      log,
      name: 'reconciler',
      failed: { claimed: 0, paid: 0, closed: 0, failed: 1 },
    }),
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
