import type { Db } from '../db/database.js';

/** An event as the event log shows it: its body, and its place in the log. */
export interface LoggedEvent {
  /** Place in the log: grows by one per event, in the order they became visible. */
  sequence: number;
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  data: { object: unknown };
}

export interface DeliveryView {
  id: number;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  succeededAt: string | null;
  createdAt: string;
  recentAttempts: AttemptView[];
}

export interface AttemptView {
  attempt: number;
  startedAt: string;
  latencyMs: number;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  ok: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ATTEMPTS_SHOWN = 5;

export type EventLog = ReturnType<typeof createEventLog>;

/** Read side of the outbox: the event log (paged for catch-up), an event's deliveries, an endpoint's. */
export function createEventLog(db: Db) {
  async function attemptsOf(ids: number[]): Promise<Map<number, AttemptView[]>> {
    const byDelivery = new Map<number, AttemptView[]>();
    if (ids.length === 0) return byDelivery;
    const rows = await db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', ids)
      .orderBy('id', 'desc')
      .execute();
    for (const r of rows) {
      const list = byDelivery.get(r.delivery_id) ?? [];
      if (list.length < ATTEMPTS_SHOWN) {
        list.push({
          attempt: r.attempt,
          startedAt: new Date(r.started_at).toISOString(),
          latencyMs: r.latency_ms,
          statusCode: r.status_code,
          responseBody: r.response_body,
          error: r.error,
          ok: r.ok === 1,
        });
      }
      byDelivery.set(r.delivery_id, list);
    }
    return byDelivery;
  }

  function deliveries() {
    return db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_events as e', 'e.seq', 'd.event_seq')
      .select([
        'd.id',
        'e.id as event_id',
        'e.type as event_type',
        'd.endpoint_id',
        'd.status',
        'd.attempts',
        'd.next_attempt_at',
        'd.last_status',
        'd.last_error',
        'd.succeeded_at',
        'd.created_at',
      ]);
  }

  async function withAttempts(
    rows: Awaited<ReturnType<ReturnType<typeof deliveries>['execute']>>,
  ): Promise<DeliveryView[]> {
    const attempts = await attemptsOf(rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      endpointId: r.endpoint_id,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      lastStatus: r.last_status,
      lastError: r.last_error,
      succeededAt: iso(r.succeeded_at),
      createdAt: new Date(r.created_at).toISOString(),
      recentAttempts: attempts.get(r.id) ?? [],
    }));
  }

  return {
    /**
     * Events after `after` in log order, at most `limit`. Page with the last `sequence` seen; the
     * log only grows at its end, so nothing committed is ever skipped.
     */
    async list(after: number, limit: number): Promise<{ events: LoggedEvent[]; hasMore: boolean }> {
      const rows = await db
        .selectFrom('webhook_events')
        .select(['position', 'body'])
        .where('position', 'is not', null)
        .where('position', '>', after)
        .orderBy('position')
        .limit(limit + 1)
        .execute();
      const events = rows
        .slice(0, limit)
        .map((r) => ({ sequence: Number(r.position), ...JSON.parse(r.body) }));
      return { events, hasMore: rows.length > limit };
    },

    /** The sequence of the newest event in the log (0 when empty): where "from now" starts. */
    async lastSequence(): Promise<number> {
      const { last } = await db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.max('position').as('last'))
        .executeTakeFirstOrThrow();
      return Number(last ?? 0);
    },

    /** One event, whether or not it is in the log yet, with its deliveries and their latest attempts. */
    async find(
      id: string,
    ): Promise<{ event: LoggedEvent | { sequence: null }; deliveries: DeliveryView[] } | undefined> {
      const row = await db
        .selectFrom('webhook_events')
        .select(['seq', 'position', 'body'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const rows = await deliveries().where('d.event_seq', '=', row.seq).orderBy('d.id').execute();
      return {
        event: { sequence: row.position === null ? null : Number(row.position), ...JSON.parse(row.body) },
        deliveries: await withAttempts(rows),
      };
    },

    /** The endpoint's latest deliveries, newest first, with their latest attempts. */
    async deliveriesOf(endpointId: string, limit: number): Promise<DeliveryView[]> {
      const rows = await deliveries()
        .where('d.endpoint_id', '=', endpointId)
        .orderBy('d.id', 'desc')
        .limit(limit)
        .execute();
      return withAttempts(rows);
    },
  };
}
