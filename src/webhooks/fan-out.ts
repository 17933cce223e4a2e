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
const waitingEvents = compiledOnce((db: Writer, value) =>
  db
    .selectFrom('webhook_events')
    .select(['seq', 'type'])
    .where('position', 'is', null)
    .orderBy('seq')
    .limit(value<number>('limit'))
    .compile(),
);
const enabledEndpoints = compiledOnce((db: Writer) =>
  db.selectFrom('webhook_endpoints').select(['id', 'event_types']).where('status', '=', 'enabled').compile(),
);
const lastPosition = compiledOnce((db: Writer) =>
  db
    .selectFrom('webhook_events')
    .select((eb) => eb.fn.max('position').as('last'))
    .compile(),
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
    const { rows: events } = await trx.executeQuery<{ seq: number; type: string }>(
      waitingEvents(trx, dialect).bind({ limit }),
    );
    if (events.length === 0) return 0;
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
    const { last } = (
      await trx.executeQuery<{ last: number | string | null }>(lastPosition(trx, dialect).bind({}))
    ).rows[0] ?? { last: null };
    const first = Number(last ?? 0) + 1;
    const positions = events.map((e, i) => sql`when ${e.seq} then cast(${first + i} as bigint)`);
    await trx
      .updateTable('webhook_events')
      .set({ position: sql`case seq ${sql.join(positions, sql` `)} end`, dispatched_at: now })
      .where(
        'seq',
        'in',
        events.map((e) => e.seq),
      )
      .execute();
    return events.length;
  });
}
