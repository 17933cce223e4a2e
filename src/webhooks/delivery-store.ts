import { batchesInFlight, writeTransaction } from '../db/commit-group.js';
import type { Db } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { createBatcher } from '../orders/batcher.js';
import { signingSecrets, wants } from './endpoint-store.js';
import { type FinishContext, type FinishItem, type FinishResult, finishAllIn } from './finish-attempt.js';
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

/** A delivery of one event to one endpoint, due now, with its 3-day window from now. */
export const newDeliveryRow = (eventSeq: number, endpointId: string, now: number) => ({
  event_seq: eventSeq,
  endpoint_id: endpointId,
  ...pendingRow(now),
  last_attempt_at: null,
  last_status: null,
  last_error: null,
  succeeded_at: null,
});

/**
 * The deliveries' queue. Claims lease due rows to one instance (FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so instances share the work and never send one attempt twice at once; on SQLite
 * the claim's conditional UPDATE runs under the single writer lock), and a finished attempt is
 * recorded only by the instance that still holds the lease.
 */
export function createDeliveryStore(db: Db) {
  const dialect = dialectOf(db);
  const postgres = dialect === 'postgres';
  const finishes = createBatcher<FinishItem, FinishResult>({
    maxConcurrent: batchesInFlight(dialect),
    run: (items) => writeTransaction(db, (trx) => finishAllIn(trx, items)),
  });

  return {
    async claim(c: {
      now: number;
      limit: number;
      leaseMs: number;
      owner: string;
    }): Promise<ClaimedDelivery[]> {
      if (c.limit <= 0) return [];
      return writeTransaction(db, async (trx) => {
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
     * Attempts that end together are recorded in one transaction (group commit, one fsync on
     * SQLite); each call resolves once its own record has committed.
     */
    finish(delivery: ClaimedDelivery, outcome: AttemptOutcome, c: FinishContext): Promise<FinishResult> {
      return finishes.submit({ delivery, outcome, c });
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
            .values(newDeliveryRow(event.seq, target.id, now))
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
