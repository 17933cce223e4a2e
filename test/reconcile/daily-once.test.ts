import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { type DbHandle, openDatabase } from '../../src/db/open.js';
import { createDailyReconciliation, DAILY_RECONCILIATION_JOB } from '../../src/jobs/daily-reconciliation.js';
import type { ReconcileDay } from '../../src/reconcile/reconcile-day.js';
import type { ReconciliationReport } from '../../src/reconcile/report.js';
import { createRunLeases } from '../../src/reconcile/run-leases.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';

const log = pino({ level: 'silent' });
/** 2024-01-02 09:59 Beijing time. */
const BEFORE_TEN = Date.UTC(2024, 0, 2, 1, 59);
const MINUTE = 60_000;

/**
 * Two service instances, each with its own connection pool on the same database, wake at the
 * same minute: the day's reconciliation runs in one of them only. The reconciliation itself is
 * a stand-in that counts its runs and takes a while, so both claims overlap it.
 */
for (const database of testDatabases()) {
  describe(`the daily reconciliation runs once across instances on ${database.name}`, () => {
    let first: TestDbHandle;
    let second: DbHandle;
    const runs: string[] = [];
    let failNext = false;
    const clock = createManualClock(BEFORE_TEN);

    const reconcileDay: ReconcileDay = async (date) => {
      runs.push(date);
      await new Promise((r) => setTimeout(r, 50));
      if (failNext) {
        failNext = false;
        throw new Error('WeChat has not generated the bill yet');
      }
      return { billDate: date, status: 'clean' } as ReconciliationReport;
    };
    const instance = (handle: DbHandle, owner: string, schedule = { hour: 10, minute: 0 }) =>
      createDailyReconciliation({
        reconcileDay,
        leases: createRunLeases(handle.db),
        clock,
        log,
        schedule,
        owner,
        retryMs: 15 * MINUTE,
      });

    beforeAll(async () => {
      first = await database.openMigrated();
      second = await openDatabase(first.url);
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
    });

    it('waits for 10:00 Beijing, then runs yesterday once however many instances try', async () => {
      const a = instance(first, 'instance-a');
      const b = instance(second, 'instance-b');
      expect(await Promise.all([a.tick(), b.tick()])).toEqual([
        { ran: false, reason: 'not_yet' },
        { ran: false, reason: 'not_yet' },
      ]);
      clock.advance(MINUTE);
      const ticks = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
      expect(runs).toEqual(['2024-01-01']);
      expect(ticks.filter((t) => t.ran)).toHaveLength(1);
      expect(ticks.filter((t) => !t.ran).map((t) => (t as { reason: string }).reason)).toEqual([
        'taken',
        'taken',
        'taken',
      ]);
      // Later in the day, and after the lease would have run out, a finished run stays done.
      clock.advance(5 * 60 * MINUTE);
      expect(await Promise.all([a.tick(), b.tick()])).toEqual([
        { ran: false, reason: 'taken' },
        { ran: false, reason: 'taken' },
      ]);
      const row = await createRunLeases(first.db).find(DAILY_RECONCILIATION_JOB, '2024-01-01');
      expect(row).toMatchObject({ attempts: 1, last_error: null });
      expect(row?.finished_at).not.toBeNull();
    });

    it('a failed run is given back and run again after the retry delay, by any one instance', async () => {
      runs.length = 0;
      clock.set(Date.UTC(2024, 0, 3, 2, 0)); // 2024-01-03 10:00 Beijing: the run of the 2nd
      failNext = true;
      const a = instance(first, 'instance-a');
      const b = instance(second, 'instance-b');
      const failed = await a.tick();
      expect(failed).toEqual({
        ran: true,
        date: '2024-01-02',
        error: 'WeChat has not generated the bill yet',
      });
      clock.advance(14 * MINUTE);
      expect(await Promise.all([a.tick(), b.tick()])).toEqual([
        { ran: false, reason: 'taken' },
        { ran: false, reason: 'taken' },
      ]);
      clock.advance(MINUTE);
      const retried = await Promise.all([b.tick(), a.tick()]);
      expect(retried.filter((t) => t.ran)).toEqual([
        expect.objectContaining({ ran: true, date: '2024-01-02' }),
      ]);
      expect(runs).toEqual(['2024-01-02', '2024-01-02']);
      const row = await createRunLeases(first.db).find(DAILY_RECONCILIATION_JOB, '2024-01-02');
      expect(row).toMatchObject({ attempts: 2, last_error: null });
    });

    it('an instance that died mid-run leaves a lease another takes over once it expires', async () => {
      runs.length = 0;
      clock.set(Date.UTC(2024, 0, 4, 2, 0));
      const leases = createRunLeases(first.db);
      const claim = {
        job: DAILY_RECONCILIATION_JOB,
        key: '2024-01-03',
        now: clock.now(),
        leaseMs: 30 * MINUTE,
      };
      expect(await leases.claim({ ...claim, owner: 'crashed' })).toBe(true);
      const b = instance(second, 'instance-b');
      expect(await b.tick()).toEqual({ ran: false, reason: 'taken' });
      clock.advance(30 * MINUTE);
      expect(await b.tick()).toMatchObject({ ran: true, date: '2024-01-03' });
      // The crashed owner can no longer mark it: the run is instance-b's.
      expect(await leases.claim({ ...claim, now: clock.now(), owner: 'crashed' })).toBe(false);
    });

    it('RECONCILE_DAILY=off never runs', async () => {
      runs.length = 0;
      const off = createDailyReconciliation({
        reconcileDay,
        leases: createRunLeases(first.db),
        clock,
        log,
        schedule: null,
      });
      expect(await off.tick()).toEqual({ ran: false, reason: 'off' });
      expect(runs).toEqual([]);
    });
  });
}
