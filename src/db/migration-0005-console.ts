import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from './database.js';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration interface is declared over Kysely<any>.
type AnyDb = Kysely<any>;

/**
 * 0005_console: what the operator console needs.
 * - anomalies: who resolved it, when, and why (a resolved anomaly leaves the queue);
 * - reconciliation_reports: one stored report per bill date. Nothing writes it yet (the daily
 *   reconciliation is a later piece of work); the console lists what is there.
 */
export function consoleMigration(dialect: SqlDialect): Migration {
  return {
    up: async (db: AnyDb) => {
      await db.schema.alterTable('anomalies').addColumn('resolved_at', 'bigint').execute();
      await db.schema.alterTable('anomalies').addColumn('resolved_by', 'text').execute();
      await db.schema.alterTable('anomalies').addColumn('resolution_note', 'text').execute();
      await db.schema
        .createIndex('anomalies_resolved_at_id_idx')
        .on('anomalies')
        .columns(['resolved_at', 'id'])
        .execute();
      await db.schema
        .createTable('reconciliation_reports')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('bill_date', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
