import { sql } from 'kysely';
import type { Db, WebhookDeliveriesTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { signingSecrets, wants } from './endpoint-store.js';
import { DELIVERY_WINDOW_MS } from './retry-schedule.js';

/** A delivery leased to this instance, with what it takes to send it. */
export interface ClaimedDelivery {
  id: number;
  eventId: string;
  /** The exact body every attempt sends. */
  body: string;
  endpointId: string;
  url: string;
  /** The secrets that sign it now (two for 24 h after a rotation). */
  secrets: string[];
  /** 1 for the first attempt. */
  attempt: number;
}

/** What one POST gave. */
export interface AttemptOutcome {
  ok: boolean;
  startedAt: number;
  latencyMs: number;
  statusCode: number | null;
  /** The first 1 KB of the answer. */
  responseBody: string | null;
  error: string | null;
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;

const pendingRow = (now: number) => ({
  status: 'pending' as const,
  attempts: 0,
  created_at: now,
  give_up_at: now + DELIVERY_WINDOW_MS,
  next_attempt_at: now,
  lease_until: null,
  lease_owner: null,
});

/**
 * The deliveries' queue. Claims lease due rows to one instance (FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so instances share the work and never send one attempt twice at once; on SQLite
 * the claim's conditional UPDATE runs under the single writer lock), and a finished attempt is
 * recorded only by the instance that still holds the lease.
 */
export function createDeliveryStore(db: Db) {
  const postgres = dialectOf(db) === 'postgres';

  return {
    async claim(c: {
      now: number;
      limit: number;
      leaseMs: number;
      owner: string;
    }): Promise<ClaimedDelivery[]> {
      if (c.limit <= 0) return [];
      return db.transaction().execute(async (trx) => {
        const due = trx
          .selectFrom('webhook_deliveries as d')
          .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
          .select('d.id')
          .where('d.status', '=', 'pending')
          .where('d.next_attempt_at', '<=', c.now)
          .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', c.now)]))
          .where('e.status', '=', 'enabled')
          .orderBy('d.next_attempt_at')
          .orderBy('d.id')
          .limit(c.limit);
        const ids = (await (postgres ? due.forUpdate('d').skipLocked() : due).execute()).map((r) => r.id);
        if (ids.length === 0) return [];
        const leased = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_until: c.now + c.leaseMs, lease_owner: c.owner })
          .where('id', 'in', ids)
          .where('status', '=', 'pending')
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', c.now)]))
          .returning('id')
          .execute();
        if (leased.length === 0) return [];
        const rows = await trx
          .selectFrom('webhook_deliveries as d')
          .innerJoin('webhook_events as ev', 'ev.seq', 'd.event_seq')
          .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
          .select([
            'd.id',
            'd.attempts',
            'ev.id as event_id',
            'ev.body',
            'e.id as endpoint_id',
            'e.url',
            'e.secret',
            'e.previous_secret',
            'e.previous_secret_expires_at',
          ])
          .where(
            'd.id',
            'in',
            leased.map((r) => r.id),
          )
          .orderBy('d.id')
          .execute();
        return rows.map((r) => ({
          id: r.id,
          eventId: r.event_id,
          body: r.body,
          endpointId: r.endpoint_id,
          url: r.url,
          secrets: signingSecrets(r, c.now),
          attempt: r.attempts + 1,
        }));
      });
    },

    /**
     * Records an attempt and moves its delivery: succeeded; pending again at `retryAt`; or, when
     * `retryAt` falls after the 3-day window, failed. A delivery that fails for good on an
     * endpoint with no success in that window disables the endpoint and raises an anomaly.
     */
    async finish(
      delivery: ClaimedDelivery,
      outcome: AttemptOutcome,
      c: { now: number; owner: string; retryAt: number },
    ): Promise<{ status: WebhookDeliveriesTable['status'] | 'lease_lost'; endpointDisabled: boolean }> {
      return db.transaction().execute(async (trx) => {
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
      });
    },

    /**
     * Sends an event again, now, with a fresh 3-day window: to one endpoint, or to every enabled
     * endpoint that wants its type. The event keeps its id, so receivers that already applied it
     * ignore the copy. `undefined` when the event does not exist; `[]` when no endpoint takes it.
     */
    async resend(
      eventId: string,
      now: number,
      endpointId?: string,
    ): Promise<{ endpointId: string; deliveryId: number }[] | undefined> {
      return db.transaction().execute(async (trx) => {
        const event = await trx
          .selectFrom('webhook_events')
          .select(['seq', 'type'])
          .where('id', '=', eventId)
          .executeTakeFirst();
        if (!event) return undefined;
        const query = trx
          .selectFrom('webhook_endpoints')
          .select(['id', 'event_types'])
          .where('status', '=', 'enabled');
        const endpoints = await (endpointId ? query.where('id', '=', endpointId) : query).execute();
        const targets = endpointId
          ? endpoints
          : endpoints.filter((e) => wants(JSON.parse(e.event_types), event.type));
        const done: { endpointId: string; deliveryId: number }[] = [];
        for (const target of targets) {
          const row = await trx
            .insertInto('webhook_deliveries')
            .values({
              event_seq: event.seq,
              endpoint_id: target.id,
              ...pendingRow(now),
              last_attempt_at: null,
              last_status: null,
              last_error: null,
              succeeded_at: null,
            })
            .onConflict((oc) => {
              const { attempts: _keepCounting, ...again } = pendingRow(now);
              return oc.columns(['event_seq', 'endpoint_id']).doUpdateSet(again);
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          done.push({ endpointId: target.id, deliveryId: row.id });
        }
        return done;
      });
    },
  };
}
