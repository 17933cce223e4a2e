import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { beijingDate, CONSOLE_UTC_OFFSET_MS } from '../admin/time-range.js';
import type { Clock } from '../clock.js';
import type { ReconcileDay } from '../reconcile/reconcile-day.js';
import type { ReconciliationReport } from '../reconcile/report.js';
import type { RunLeases } from '../reconcile/run-leases.js';
import { intervalJob } from './interval-job.js';

export const DAILY_RECONCILIATION_JOB = 'daily_reconciliation';
const DAY_MS = 24 * 3600 * 1000;

/** RECONCILE_DAILY: the Beijing time of day after which yesterday's bill is reconciled, or off. */
export type DailySchedule = { hour: number; minute: number } | null;

export interface DailyReconciliationDeps {
  reconcileDay: ReconcileDay;
  leases: RunLeases;
  clock: Clock;
  log: Logger;
  schedule: DailySchedule;
  /** Identifies this instance in the lease; defaults to a random id. */
  owner?: string;
  /** How often the job looks at the clock. Default one minute. */
  checkEveryMs?: number;
  /** How long a claimed run is this instance's before another may take it over. Default 30 minutes. */
  leaseMs?: number;
  /** After a failed run (the bill not generated yet, WeChat unreachable), wait this long. Default 15 minutes. */
  retryMs?: number;
}

export type DailyTick =
  | { ran: false; reason: 'off' | 'not_yet' | 'taken' }
  | { ran: true; date: string; report: ReconciliationReport }
  | { ran: true; date: string; error: string };

/**
 * Reconciles yesterday's bill once a day, after `schedule` Beijing time (WeChat's bills are ready
 * from about 10:00), in exactly one instance: each instance looks at the clock every minute and
 * tries to claim the day's run (run-leases.ts); the one that wins runs it, the others see it
 * taken. A failed run is given back and tried again `retryMs` later, by whichever instance
 * claims it first. A service started after the hour catches up on yesterday at its first look (within a minute).
 */
export function createDailyReconciliation(deps: DailyReconciliationDeps) {
  const { clock, log, schedule } = deps;
  const owner = deps.owner ?? randomUUID();
  const leaseMs = deps.leaseMs ?? 30 * 60_000;
  const retryMs = deps.retryMs ?? 15 * 60_000;

  async function tick(): Promise<DailyTick> {
    if (!schedule) return { ran: false, reason: 'off' };
    const now = clock.now();
    const sinceMidnight = (now + CONSOLE_UTC_OFFSET_MS) % DAY_MS;
    if (sinceMidnight < (schedule.hour * 60 + schedule.minute) * 60_000)
      return { ran: false, reason: 'not_yet' };
    const date = beijingDate(now - DAY_MS);
    const run = { job: DAILY_RECONCILIATION_JOB, key: date, owner };
    if (!(await deps.leases.claim({ ...run, now, leaseMs }))) return { ran: false, reason: 'taken' };
    try {
      const report = await deps.reconcileDay(date);
      await deps.leases.finish({ ...run, now: clock.now() });
      return { ran: true, date, report };
    } catch (err) {
      const error = (err as Error).message ?? String(err);
      log.error({ err, billDate: date }, 'daily reconciliation failed; it will be tried again');
      await deps.leases.fail({ ...run, error, retryAt: clock.now() + retryMs });
      return { ran: true, date, error };
    }
  }

  return {
    tick,
    ...intervalJob(tick, {
      intervalMs: deps.checkEveryMs ?? 60_000,
      log,
      name: 'daily reconciliation',
      failed: { ran: false, reason: 'taken' },
    }),
  };
}

export type DailyReconciliation = ReturnType<typeof createDailyReconciliation>;

/**
 * Reads RECONCILE_DAILY: `off`, or `HH:MM` (24-hour, Beijing time).
 *
 * @example
 * parseDailySchedule('10:00') // { hour: 10, minute: 0 }
 * parseDailySchedule('off') // null
 * parseDailySchedule('25:00') // undefined: not a time
 */
export function parseDailySchedule(text: string): DailySchedule | undefined {
  if (text === 'off') return null;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}
