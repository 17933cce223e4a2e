import { type Expression, sql } from 'kysely';
import type { AuditCheck, Finding } from '../audit.js';
import { jsonText } from '../sql.js';
import { changesInto } from './events.js';

/** States money went through: each was reached by paying (the refunds branch adds PARTIALLY_REFUNDED). */
const PAID_STATES = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

interface Row {
  id: string;
  status: string;
  last_to: string | null;
  paid_complete: number;
  paid_event: number;
  anomaly_event: number;
  anomaly_row: number;
}

/**
 * Every status is where the order's own events led: its last state change names it (a PENDING
 * order has none), a paid order carries the payment that paid it (the PAID state change, the
 * transaction_id, paid_at and the source), and a REVIEW order its `anomaly` event and an anomaly
 * for a person. One statement, so it reads one snapshot.
 */
export const statusBacked: AuditCheck = {
  name: 'status-backed-by-events',
  description:
    'every status is backed by its events: the last state change names it; PAID has its payment; REVIEW its anomaly',
  async findings(db) {
    const flag = (condition: Expression<unknown>) => sql<number>`case when ${condition} then 1 else 0 end`;
    const perOrder = db.selectFrom('orders as o').select((eb) => [
      'o.id',
      'o.status',
      eb
        .selectFrom('order_events')
        .select(jsonText(db, 'order_events.data', 'to').as('to'))
        .whereRef('order_events.order_id', '=', 'o.id')
        .where('order_events.type', '=', 'state_changed')
        .where(jsonText(db, 'order_events.data', 'to'), 'is not', null)
        .orderBy('order_events.id', 'desc')
        .limit(1)
        .as('last_to'),
      flag(sql`o.transaction_id is not null and o.paid_at is not null and o.paid_source is not null`).as(
        'paid_complete',
      ),
      flag(
        eb.exists(
          eb
            .selectFrom('order_events')
            .select('order_events.id')
            .whereRef('order_events.order_id', '=', 'o.id')
            .where((e) => changesInto(db, e, 'PAID')),
        ),
      ).as('paid_event'),
      flag(
        eb.exists(
          eb
            .selectFrom('order_events')
            .select('order_events.id')
            .whereRef('order_events.order_id', '=', 'o.id')
            .where('order_events.type', '=', 'anomaly'),
        ),
      ).as('anomaly_event'),
      flag(
        eb.exists(
          eb.selectFrom('anomalies').select('anomalies.id').whereRef('anomalies.order_id', '=', 'o.id'),
        ),
      ).as('anomaly_row'),
    ]);
    // The database keeps only the suspects; unbacked() below says what each one lacks.
    const rows = (await db
      .selectFrom(perOrder.as('t'))
      .selectAll()
      .where(
        sql<boolean>`(t.status = 'PENDING' and t.last_to is not null)
          or (t.status <> 'PENDING' and (t.last_to is null or t.last_to <> t.status))
          or (t.status in (${sql.join(PAID_STATES)}) and (t.paid_event = 0 or t.paid_complete = 0))
          or (t.status = 'REVIEW' and (t.anomaly_event = 0 or t.anomaly_row = 0))`,
      )
      .orderBy('t.id')
      .execute()) as Row[];
    return rows.flatMap((row) => {
      const problems = unbacked(row);
      return problems.length === 0 ? [] : [{ id: row.id, detail: `${row.status}: ${problems.join('; ')}` }];
    }) satisfies Finding[];
  },
};

/** What is missing behind one order's status; empty when nothing is. */
function unbacked(row: Row): string[] {
  const problems: string[] = [];
  if (row.status === 'PENDING') {
    if (row.last_to !== null) problems.push(`its last state change led to ${row.last_to}`);
  } else if (row.last_to === null) {
    problems.push(`no state change into ${row.status}`);
  } else if (row.last_to !== row.status) {
    problems.push(`its last state change led to ${row.last_to}, not ${row.status}`);
  }
  if (PAID_STATES.includes(row.status)) {
    if (Number(row.paid_event) === 0) problems.push('no state change into PAID');
    if (Number(row.paid_complete) === 0) problems.push('transaction_id, paid_at or paid_source missing');
  }
  if (row.status === 'REVIEW') {
    if (Number(row.anomaly_event) === 0) problems.push('no anomaly event');
    if (Number(row.anomaly_row) === 0) problems.push('no anomaly recorded for a person');
  }
  return problems;
}
