import type { Db } from '../db/database.js';

export interface DaySummary {
  date: string;
  /** [start, end) of the Beijing day, ISO 8601. */
  from: string;
  to: string;
  created: number;
  paid: { count: number; amount: number };
  /** Refunds that succeeded that day (settled SUCCESS), with their amount in fen. */
  refunds: { count: number; amount: number };
  /** Orders created that day that are still PENDING now. */
  pending: number;
  /**
   * Verified notifications recorded that day. `refused` counts the anomalies they raised, by kind
   * (distinct payments, not deliveries: WeChat's retries of one notification count once).
   * Forged or malformed notifications write nothing by design; they are only in /metrics.
   */
  notifications: { accepted: number; applied: number; duplicates: number; refused: Record<string, number> };
  /** Every anomaly recorded that day, by kind (a payment after a local close is credited, yet flagged). */
  anomalies: Record<string, number>;
  /** Orders by status, now, whatever day they were created. */
  statuses: Record<string, number>;
}

/** The anomaly kinds a notification is refused (FAIL) for; the others are flagged but accepted. */
const REFUSED_KINDS = new Set(['unknown_out_trade_no', 'notify_amount_mismatch', 'transaction_conflict']);

/**
 * Today at a glance, counted from the database: durable, and the same whichever instance is
 * asked (the in-memory metrics are per instance and start at zero after a restart).
 */
export async function daySummary(db: Db, date: string, start: number, end: number): Promise<DaySummary> {
  const [created, paid, pending, received, anomalies, statuses, refunded] = await Promise.all([
    db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('orders')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('amount').as('fen')])
      .where('paid_at', '>=', start)
      .where('paid_at', '<', end)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .where('status', '=', 'PENDING')
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('order_events')
      .select('data')
      .where('type', '=', 'notification_received')
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .execute(),
    db
      .selectFrom('anomalies')
      .select((eb) => ['kind', eb.fn.countAll<number>().as('n')])
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .groupBy('kind')
      .execute(),
    db
      .selectFrom('orders')
      .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute(),
    db
      .selectFrom('refunds')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('amount').as('fen')])
      .where('status', '=', 'SUCCESS')
      .where('settled_at', '>=', start)
      .where('settled_at', '<', end)
      .executeTakeFirstOrThrow(),
  ]);
  const applied = received.filter(
    (r) => (JSON.parse(r.data) as { applied?: boolean }).applied === true,
  ).length;
  return {
    date,
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    created: Number(created.n),
    paid: { count: Number(paid.n), amount: Number(paid.fen ?? 0) },
    refunds: { count: Number(refunded.n), amount: Number(refunded.fen ?? 0) },
    pending: Number(pending.n),
    notifications: {
      accepted: received.length,
      applied,
      duplicates: received.length - applied,
      refused: Object.fromEntries(
        anomalies.filter((a) => REFUSED_KINDS.has(a.kind)).map((a) => [a.kind, Number(a.n)]),
      ),
    },
    anomalies: Object.fromEntries(anomalies.map((a) => [a.kind, Number(a.n)])),
    statuses: Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)])),
  };
}
