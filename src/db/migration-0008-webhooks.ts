import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from 'kysely';
import type { SqlDialect } from './database.js';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration interface is declared over Kysely<any>.
type AnyDb = Kysely<any>;

/**
 * 0008_webhooks: the outbox and its delivery.
 * - webhook_events: one row per event, written in the transaction of the state change that
 *   causes it. `seq` is the insert order; `position` is given later, one at a time, by the
 *   deliverer's fan-out, so the event log paged by position never skips a late commit.
 * - webhook_endpoints: where events go, each with its own signing secret.
 * - webhook_deliveries: one row per (event, endpoint), made at fan-out; the retry state.
 * - webhook_attempts: every POST, with its answer.
 * - webhook_outbox_start: the last order event and anomaly written before the outbox existed,
 *   so the audit asks for events only about changes made since.
 */
export function webhooksMigration(dialect: SqlDialect): Migration {
  const autoId = dialect === 'postgres' ? 'bigserial' : 'integer';
  const autoIdColumn = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  return {
    up: async (db: AnyDb) => {
      await db.schema
        .createTable('webhook_events')
        .addColumn('seq', autoId, autoIdColumn)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('livemode', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text')
        .addColumn('refund_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.unique())
        .addColumn('dispatched_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('webhook_events_undispatched_idx')
        .on('webhook_events')
        .column('seq')
        .where(sql.ref('position'), 'is', null)
        .execute();
      await db.schema
        .createIndex('webhook_events_order_id_idx')
        .on('webhook_events')
        .column('order_id')
        .execute();
      await db.schema
        .createIndex('webhook_events_refund_id_idx')
        .on('webhook_events')
        .column('refund_id')
        .execute();

      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('previous_secret', 'text')
        .addColumn('previous_secret_expires_at', 'bigint')
        .addColumn('event_types', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint(
          'webhook_endpoints_status_known',
          sql`status in ('enabled', 'disabled', 'deleted')`,
        )
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', autoId, autoIdColumn)
        .addColumn('event_seq', 'bigint', (c) => c.notNull().references('webhook_events.seq'))
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id'))
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('give_up_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('succeeded_at', 'bigint')
        .addUniqueConstraint('webhook_deliveries_event_endpoint_key', ['event_seq', 'endpoint_id'])
        .addCheckConstraint(
          'webhook_deliveries_status_known',
          sql`status in ('pending', 'succeeded', 'failed', 'cancelled')`,
        )
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due_idx')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_endpoint_idx')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'id'])
        .execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('id', autoId, autoIdColumn)
        .addColumn('delivery_id', 'bigint', (c) => c.notNull().references('webhook_deliveries.id'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('latency_ms', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('error', 'text')
        .addColumn('ok', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_attempts_delivery_idx')
        .on('webhook_attempts')
        .columns(['delivery_id', 'id'])
        .execute();

      await db.schema
        .createTable('webhook_outbox_start')
        .addColumn('order_event_id', 'bigint', (c) => c.notNull())
        .addColumn('anomaly_id', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into webhook_outbox_start (order_event_id, anomaly_id)
        select (select coalesce(max(id), 0) from order_events), (select coalesce(max(id), 0) from anomalies)`.execute(
        db,
      );
    },
  };
}
