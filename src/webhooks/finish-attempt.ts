import { sql, type Transaction } from 'kysely';
import type { Database, WebhookDeliveriesTable } from '../db/database.js';
import type { AttemptOutcome, ClaimedDelivery } from './delivery-store.js';

export interface FinishContext {
  now: number;
  owner: string;
  retryAt: number;
}

export type FinishResult = {
  status: WebhookDeliveriesTable['status'] | 'lease_lost';
  endpointDisabled: boolean;
};

/** finish()'s work for one attempt, in the caller's transaction. */
export async function finishIn(
  trx: Transaction<Database>,
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome,
  c: FinishContext,
): Promise<FinishResult> {
  await trx
    .insertInto('webhook_attempts')
    .values({
      delivery_id: delivery.id,
      attempt: delivery.attempt,
      owner: c.owner,
      started_at: outcome.startedAt,
      latency_ms: Math.round(outcome.latencyMs),
      status_code: outcome.statusCode,
      response_body: outcome.responseBody,
      error: outcome.error,
      ok: outcome.ok ? 1 : 0,
    })
    .execute();
  const current = await trx
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', delivery.id)
    .where('lease_owner', '=', c.owner)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  if (!current) return { status: 'lease_lost' as const, endpointDisabled: false };
  const status = outcome.ok ? 'succeeded' : c.retryAt > current.give_up_at ? 'failed' : 'pending';
  await trx
    .updateTable('webhook_deliveries')
    .set({
      status,
      attempts: sql`attempts + 1`,
      next_attempt_at: status === 'pending' ? c.retryAt : current.next_attempt_at,
      lease_until: null,
      lease_owner: null,
      last_attempt_at: outcome.startedAt,
      last_status: outcome.statusCode,
      last_error: outcome.error,
      succeeded_at: outcome.ok ? c.now : null,
    })
    .where('id', '=', delivery.id)
    .execute();
  if (status !== 'failed') return { status, endpointDisabled: false };
  const success = await trx
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .select('a.id')
    .where('d.endpoint_id', '=', delivery.endpointId)
    .where('a.ok', '=', 1)
    .where('a.started_at', '>=', current.created_at)
    .limit(1)
    .executeTakeFirst();
  if (success) return { status, endpointDisabled: false };
  const disabled = await trx
    .updateTable('webhook_endpoints')
    .set({ status: 'disabled', disabled_reason: 'every delivery failed for 3 days', updated_at: c.now })
    .where('id', '=', delivery.endpointId)
    .where('status', '=', 'enabled')
    .returning('id')
    .executeTakeFirst();
  if (disabled) {
    await trx
      .insertInto('anomalies')
      .values({
        kind: 'webhook_endpoint_disabled',
        ref: `${delivery.endpointId}@${c.now}`,
        order_id: null,
        data: JSON.stringify({
          endpointId: delivery.endpointId,
          url: delivery.url,
          lastError: outcome.error,
          lastStatus: outcome.statusCode,
        }),
        created_at: c.now,
        resolved_at: null,
        resolved_by: null,
        resolution_note: null,
      })
      .onConflict((oc) => oc.columns(['kind', 'ref']).doNothing())
      .execute();
  }
  return { status, endpointDisabled: disabled !== undefined };
}
