import { sql, type Transaction } from 'kysely';
import { writeTransaction } from '../db/commit-group.js';
import type { Database, Db } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledOnce } from '../db/size-classes.js';
import { newDeliveryRow } from './delivery-store.js';
import { wants } from './endpoint-store.js';

/** Any fixed number: the PostgreSQL advisory lock that lets one fan-out run at a time. */
const FAN_OUT_LOCK = 7_200_808;

/**
 * Turns committed, not yet dispatched events into one pending delivery per enabled endpoint
 * that wants their type, and gives each event its place in the event log, in one transaction.
 *
 * Fan-outs run one at a time (an advisory lock on PostgreSQL; SQLite has one writer), so the
 * positions they hand out only grow and a reader paging the log by position never skips an
 * event that committed late. A crash anywhere leaves either nothing or everything; a rerun
 * inserts no second delivery, since (event, endpoint) is unique. Returns the events dispatched.
 */
/*
 * The fan-out's fixed statements run on every cycle and after every batch of notifications that
 * records events: compiled once per dialect (size-classes.ts, compiledOnce).
 */
const anyWaiting = compiledOnce((db: Writer) =>
  db.selectFrom('webhook_events').select('seq').where('position', 'is', null).limit(1).compile(),
);
/**
 * Gives the oldest `limit` events without a place the next places in the log, in seq order,
 * after the last place given: one statement, where reading the events, reading the last place
 * and writing the new ones were three. The fan-out's lock keeps the last place from moving
 * meanwhile, and every new place is above it, so the unique index on position never sees a
 * collision mid-statement.
 */
const placeWaiting = compiledOnce((db: Writer, value) =>
  sql`update webhook_events
    set position = placed.place, dispatched_at = ${value<number>('now')}
    from (
      select waiting.seq,
        row_number() over (order by waiting.seq) + coalesce((select max(position) from webhook_events), 0) as place
      from webhook_events as waiting
      where waiting.position is null
      order by waiting.seq
      limit ${value<number>('limit')}
    ) as placed
    where webhook_events.seq = placed.seq
    returning webhook_events.seq, webhook_events.type`.compile(db),
);
const enabledEndpoints = compiledOnce((db: Writer) =>
  db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('status', '=', 'enabled').compile(),
);

type Writer = Db | Transaction<Database>;

export async function fanOut(db: Db, now: number, limit = 200): Promise<number> {
  const dialect = dialectOf(db);
  const postgres = dialect === 'postgres';
  // Most cycles find nothing new: a plain read then, no write transaction (no fsync, no lock).
  const waiting = await db.executeQuery(anyWaiting(db, dialect).bind({}));
  if (waiting.rows.length === 0) return 0;
  return writeTransaction(db, async (trx) => {
    if (postgres) await sql`select pg_advisory_xact_lock(${FAN_OUT_LOCK})`.execute(trx);
    const { rows: placed } = await trx.executeQuery<{ seq: number; type: string }>(
      placeWaiting(trx, dialect).bind({ now, limit }),
    );
    if (placed.length === 0) return 0;
    // RETURNING gives no order: deliveries are written oldest event first, as they were placed.
    const events = [...placed].sort((a, b) => Number(a.seq) - Number(b.seq));
    const { rows: endpoints } = await trx.executeQuery<{ id: string; event_types: string }>(
      enabledEndpoints(trx, dialect).bind({}),
    );
    const subscribed = endpoints.map((e) => ({ id: e.id, types: JSON.parse(e.event_types) as string[] }));
    const deliveries = events.flatMap((event) =>
      subscribed.filter((e) => wants(e.types, event.type)).map((e) => newDeliveryRow(event.seq, e.id, now)),
    );
    if (deliveries.length > 0) {
      await trx
        .insertInto('webhook_deliveries')
        .values(deliveries)
        .onConflict((oc) => oc.columns(['event_seq', 'endpoint_id']).doNothing())
        .execute();
    }
    return events.length;
  });
}
