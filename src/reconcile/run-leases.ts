import { sql } from 'kysely';
import type { Db } from '../db/database.js';

export type RunLeases = ReturnType<typeof createRunLeases>;

/**
 * Scheduled runs that must happen once across instances (scheduled_runs, 0006_reconciliation).
 * A run is claimed by inserting its row (the primary key lets one insert win) or, when an
 * earlier claim failed or its instance died, by ONE conditional UPDATE of an expired, unfinished
 * lease. Both are single statements, so they hold on SQLite and PostgreSQL alike, however many
 * instances try at the same moment.
 */
export function createRunLeases(db: Db) {
  return {
    /** True when this owner now holds the run (job, key) until `now + leaseMs`. */
    async claim(run: {
      job: string;
      key: string;
      owner: string;
      now: number;
      leaseMs: number;
    }): Promise<boolean> {
      const leaseUntil = run.now + run.leaseMs;
      const inserted = await db
        .insertInto('scheduled_runs')
        .values({
          job: run.job,
          run_key: run.key,
          owner: run.owner,
          lease_until: leaseUntil,
          attempts: 1,
          last_error: null,
          started_at: run.now,
          finished_at: null,
        })
        .onConflict((oc) => oc.columns(['job', 'run_key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return true;
      const taken = await db
        .updateTable('scheduled_runs')
        .set({ owner: run.owner, lease_until: leaseUntil, attempts: sql`attempts + 1`, started_at: run.now })
        .where('job', '=', run.job)
        .where('run_key', '=', run.key)
        .where('finished_at', 'is', null)
        .where('lease_until', '<=', run.now)
        .executeTakeFirst();
      return Number(taken.numUpdatedRows) === 1;
    },

    /** Marks the run done; only its current owner can. */
    async finish(run: { job: string; key: string; owner: string; now: number }): Promise<void> {
      await db
        .updateTable('scheduled_runs')
        .set({ finished_at: run.now, last_error: null })
        .where('job', '=', run.job)
        .where('run_key', '=', run.key)
        .where('owner', '=', run.owner)
        .execute();
    },

    /** Gives the run back with the error, to be claimed again (by any instance) from `retryAt`. */
    async fail(run: {
      job: string;
      key: string;
      owner: string;
      error: string;
      retryAt: number;
    }): Promise<void> {
      await db
        .updateTable('scheduled_runs')
        .set({ lease_until: run.retryAt, last_error: run.error.slice(0, 1000) })
        .where('job', '=', run.job)
        .where('run_key', '=', run.key)
        .where('owner', '=', run.owner)
        .where('finished_at', 'is', null)
        .execute();
    },

    async find(job: string, key: string) {
      return db
        .selectFrom('scheduled_runs')
        .selectAll()
        .where('job', '=', job)
        .where('run_key', '=', key)
        .executeTakeFirst();
    },
  };
}
