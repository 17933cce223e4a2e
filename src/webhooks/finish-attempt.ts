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

export interface FinishItem {
  delivery: ClaimedDelivery;
  outcome: AttemptOutcome;
  c: FinishContext;
}

type Tx = Transaction<Database>;

/**
 * finish()'s work for the attempts that ended together, in the caller's transaction, with a
 * fixed number of statements for the usual case: one INSERT of every attempt, one UPDATE for
 * every delivery that succeeded (still leased to its owner, else 'lease_lost'). A failed attempt
 * takes finishFailedIn's few statements of its own (retry or give up, maybe disable the endpoint).
 * Each statement was a round trip per delivery before, a socket write each on PostgreSQL.
 */
export async function finishAllIn(trx: Tx, items: readonly FinishItem[]): Promise<FinishResult[]> {
  if (items.length === 0) return [];
  await trx
    .insertInto('webhook_attempts')
    .values(
      items.map(({ delivery, outcome, c }) => ({
        delivery_id: delivery.id,
        attempt: delivery.attempt,
        owner: c.owner,
        started_at: outcome.startedAt,
        latency_ms: Math.round(outcome.latencyMs),
        status_code: outcome.statusCode,
        response_body: outcome.responseBody,
        error: outcome.error,
        ok: outcome.ok ? 1 : 0,
      })),
    )
    .execute();
  const results: (FinishResult | undefined)[] = items.map(() => undefined);
  const succeeded = new Map<string, number[]>();
  items.forEach(({ outcome, c }, i) => {
    if (!outcome.ok) return;
    const indexes = succeeded.get(c.owner) ?? [];
    indexes.push(i);
    succeeded.set(c.owner, indexes);
  });
  for (const [owner, indexes] of succeeded) {
    // CAST so PostgreSQL knows each value's type (a bare parameter in CASE would be text).
    const byId = (type: 'bigint' | 'integer', value: (item: FinishItem) => number | null) =>
      sql<never>`case id ${sql.join(
        indexes.map(
          (i) => sql`when ${items[i]!.delivery.id} then cast(${value(items[i]!)} as ${sql.raw(type)})`,
        ),
        sql` `,
      )} end`;
    const updated = await trx
      .updateTable('webhook_deliveries')
      .set({
        status: 'succeeded',
        attempts: sql`attempts + 1`,
        lease_until: null,
        lease_owner: null,
        last_attempt_at: byId('bigint', (item) => item.outcome.startedAt),
        last_status: byId('integer', (item) => item.outcome.statusCode),
        last_error: null,
        succeeded_at: byId('bigint', (item) => item.c.now),
      })
      .where(
        'id',
        'in',
        indexes.map((i) => items[i]!.delivery.id),
      )
      .where('lease_owner', '=', owner)
      .where('status', '=', 'pending')
      .returning('id')
      .execute();
    const done = new Set(updated.map((r) => r.id));
    for (const i of indexes) {
      results[i] = done.has(items[i]!.delivery.id)
        ? { status: 'succeeded', endpointDisabled: false }
        : { status: 'lease_lost', endpointDisabled: false };
    }
  }
  for (const [i, { delivery, outcome, c }] of items.entries()) {
    results[i] ??= await finishFailedIn(trx, delivery, outcome, c);
  }
  return results as FinishResult[];
}

/** A failed attempt (already recorded in webhook_attempts): retry later, or give up for good. */
async function finishFailedIn(
  trx: Tx,
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome,
  c: FinishContext,
): Promise<FinishResult> {
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
