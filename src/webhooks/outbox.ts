import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Database, WebhookEventsTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledInsert } from '../db/size-classes.js';
import { timeOrderedEventId } from '../db/time-ordered-id.js';
import type { WebhookEventOf, WebhookEventType, WebhookObjects } from './event-types.js';

/** A transaction (or, for a single statement, the database) to write the event in. */
type Writer = Transaction<Database> | Kysely<Database>;

/** One event to write: what happened, to what, and when the change that caused it commits. */
export interface NewEvent<T extends WebhookEventType = WebhookEventType> {
  type: T;
  object: WebhookObjects[T];
  livemode: boolean;
  /** Epoch ms of the state change. */
  now: number;
  /** For the audit and the console: which order or refund the event is about. */
  orderId?: string;
  refundId?: string;
}

/** A new event's row; its place in the log (position) and dispatched_at come at fan-out. */
type EventRow = Omit<WebhookEventsTable, 'seq' | 'position' | 'dispatched_at'>;

function eventRow<T extends WebhookEventType>(event: NewEvent<T>): EventRow {
  const id = timeOrderedEventId(event.now);
  const body: WebhookEventOf<T> = {
    id,
    type: event.type,
    created: Math.floor(event.now / 1000),
    livemode: event.livemode,
    data: { object: event.object },
  };
  return {
    id,
    type: event.type,
    livemode: event.livemode ? 1 : 0,
    body: JSON.stringify(body),
    order_id: event.orderId ?? null,
    refund_id: event.refundId ?? null,
    created_at: event.now,
  };
}

/**
 * Writes events into the outbox with the caller's transaction, so they commit or roll back with
 * the state change that causes them: an event never announces a change that did not happen, and
 * a change never commits without its event. One INSERT however many. Returns the event ids.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('reconciliation_reports').values(report).execute();
 *   await recordEvents(trx, [{ type: 'reconciliation.mismatch', object, livemode, now }]);
 * });
 */
export async function recordEvents(trx: Writer, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const { statement, ids } = eventsStatement(trx, events);
  await trx.executeQuery(statement);
  return ids;
}

/**
 * recordEvents' INSERT, not yet run, for a caller that sends it together with its own statements
 * (src/db/together.ts). `events` must not be empty.
 */
export function eventsStatement(
  trx: Writer,
  events: readonly NewEvent[],
): { statement: CompiledQuery; ids: string[] } {
  const rows = events.map(eventRow);
  return { statement: insertEvents(trx, dialectOf<Database>(trx), rows), ids: rows.map((r) => r.id) };
}

/** The outbox's INSERT, however many events: compiled once per size class (size-classes.ts). */
const insertEvents = compiledInsert<EventRow>({
  table: 'webhook_events',
  columns: [
    ['id', 'text'],
    ['type', 'text'],
    ['livemode', 'integer'],
    ['body', 'text'],
    ['order_id', 'text'],
    ['refund_id', 'text'],
    ['created_at', 'bigint'],
  ],
});

/**
 * The service's outbox: knows livemode, writes events in a transaction, and tells the deliverer
 * (in this process) when a transaction that wrote events has committed, so delivery starts at
 * once instead of at the next interval.
 */
export interface Outbox {
  readonly livemode: boolean;
  /** Writes one event in `trx`; the caller must call {@link committed} after the commit. */
  record<T extends WebhookEventType>(
    trx: Writer,
    type: T,
    object: WebhookObjects[T],
    now: number,
    refs?: { orderId?: string; refundId?: string },
  ): Promise<string>;
  /** Says that a transaction which wrote events has committed. Cheap; never throws. */
  committed(): void;
  /** Called on every {@link committed}; returns a function that stops listening. */
  onCommitted(listener: () => void): () => void;
}

export function createOutbox(options: { livemode: boolean }): Outbox {
  const listeners = new Set<() => void>();
  const outbox: Outbox = {
    livemode: options.livemode,
    async record(trx, type, object, now, refs = {}) {
      const [id] = await recordEvents(trx, [{ type, object, now, livemode: options.livemode, ...refs }]);
      return id!;
    },
    committed() {
      for (const listener of listeners) {
        try {
          listener();
        } catch {
          // A wake-up is only a hint: the deliverer's interval picks the events up anyway.
        }
      }
    },
    onCommitted(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return outbox;
}

/** True when the service talks to WeChat's real payment host: events are then livemode. */
export function isLivemode(payBaseUrl: string): boolean {
  try {
    // api.mch.weixin.qq.com, and api2.mch.weixin.qq.com, WeChat's backup domain.
    return new URL(payBaseUrl).hostname.endsWith('.mch.weixin.qq.com');
  } catch {
    return false;
  }
}
