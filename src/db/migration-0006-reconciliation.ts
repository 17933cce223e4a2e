import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration interface is declared over Kysely<any>.
type AnyDb = Kysely<any>;

/**
 * 0006_reconciliation: what the daily reconciliation needs besides reconciliation_reports (0005).
 * - reconciliation_reports.updated_at: when a rerun last replaced the report (created_at stays
 *   the first run's);
 * - scheduled_runs: one row per (job, run key), e.g. ('daily_reconciliation', '2024-01-01'). An
 *   instance claims a run by inserting the row, or by one conditional UPDATE of an expired lease,
 *   so however many instances wake at 10:00, one runs it; `finished_at` says it is done.
 */
export function reconciliationMigration(): Migration {
  return {
    up: async (db: AnyDb) => {
      await db.schema.alterTable('reconciliation_reports').addColumn('updated_at', 'bigint').execute();
      await db.schema
        .createTable('scheduled_runs')
        .addColumn('job', 'text', (c) => c.notNull())
        .addColumn('run_key', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('scheduled_runs_pkey', ['job', 'run_key'])
        .execute();
    },
  };
}
