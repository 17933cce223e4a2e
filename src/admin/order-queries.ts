import type { ExpressionBuilder } from 'kysely';
import type { Database, Db, OrdersTable } from '../db/database.js';

/** What the console filters orders by; every field is optional and they combine with AND. */
export interface OrderFilter {
  status?: string;
  /** created_at >= from (epoch ms). */
  from?: number;
  /** created_at < to (epoch ms). */
  to?: number;
  minAmount?: number;
  maxAmount?: number;
  outTradeNo?: string;
  transactionId?: string;
}

export interface AdminOrder {
  id: string;
  outTradeNo: string;
  transactionId: string | null;
  status: string;
  sku: string;
  quantity: number;
  description: string;
  amount: number;
  currency: string;
  openid: string;
  paidSource: string | null;
  createdAt: number;
  paidAt: number | null;
  updatedAt: number;
  expiresAt: number;
}

export interface TimelineEntry {
  at: number;
  /** 'event' (order_events), 'evidence' (payment_evidence: the verified fields) or 'anomaly'. */
  kind: 'event' | 'evidence' | 'anomaly';
  type: string;
  data: unknown;
}

function toAdminOrder(r: OrdersTable): AdminOrder {
  return {
    id: r.id,
    outTradeNo: r.out_trade_no,
    transactionId: r.transaction_id,
    status: r.status,
    sku: r.sku,
    quantity: r.quantity,
    description: r.description,
    amount: r.amount,
    currency: r.currency,
    openid: r.openid,
    paidSource: r.paid_source,
    createdAt: r.created_at,
    paidAt: r.paid_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
  };
}

function matching(f: OrderFilter) {
  return (eb: ExpressionBuilder<Database, 'orders'>) => {
    const and = [];
    if (f.status !== undefined) and.push(eb('status', '=', f.status));
    if (f.from !== undefined) and.push(eb('created_at', '>=', f.from));
    if (f.to !== undefined) and.push(eb('created_at', '<', f.to));
    if (f.minAmount !== undefined) and.push(eb('amount', '>=', f.minAmount));
    if (f.maxAmount !== undefined) and.push(eb('amount', '<=', f.maxAmount));
    if (f.outTradeNo !== undefined) and.push(eb('out_trade_no', '=', f.outTradeNo));
    if (f.transactionId !== undefined) and.push(eb('transaction_id', '=', f.transactionId));
    return eb.and(and);
  };
}

/** The console's read side over orders: filtered pages, one order's whole story. */
export interface AdminRefund {
  id: string;
  outRefundNo: string;
  amount: number;
  reason: string;
  status: string;
  refundId: string | null;
  lastError: string | null;
  requestedBy: string;
  createdAt: string;
  settledAt: string | null;
}

export function createOrderQueries(db: Db) {
  return {
    /** Newest first (created_at, then id), `limit` rows from `offset`, and how many match in all. */
    async list(
      filter: OrderFilter,
      offset: number,
      limit: number,
    ): Promise<{ orders: AdminOrder[]; total: number }> {
      const where = matching(filter);
      const [rows, count] = await Promise.all([
        db
          .selectFrom('orders')
          .selectAll()
          .where(where)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(limit)
          .offset(offset)
          .execute(),
        db
          .selectFrom('orders')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where(where)
          .executeTakeFirstOrThrow(),
      ]);
      return { orders: rows.map(toAdminOrder), total: Number(count.n) };
    },

    async find(id: string): Promise<AdminOrder | undefined> {
      const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toAdminOrder(row);
    },

    /**
     * Everything recorded about an order, oldest first: its events (notifications, queries, state
     * changes), the verified payment evidence with every raw field, and its anomalies.
     */
    async timeline(id: string): Promise<TimelineEntry[]> {
      const [events, evidence, anomalies] = await Promise.all([
        db.selectFrom('order_events').selectAll().where('order_id', '=', id).orderBy('id').execute(),
        db.selectFrom('payment_evidence').selectAll().where('order_id', '=', id).execute(),
        db.selectFrom('anomalies').selectAll().where('order_id', '=', id).orderBy('id').execute(),
      ]);
      const entries: TimelineEntry[] = [
        ...events.map((e) => ({
          at: e.created_at,
          kind: 'event' as const,
          type: e.type,
          data: JSON.parse(e.data),
        })),
        ...evidence.map((e) => ({
          at: e.received_at,
          kind: 'evidence' as const,
          type: e.source,
          data: {
            transactionId: e.transaction_id,
            totalFee: e.total_fee,
            cashFee: e.cash_fee,
            orderStatus: e.order_status,
            raw: JSON.parse(e.raw),
          },
        })),
        ...anomalies.map((a) => ({
          at: a.created_at,
          kind: 'anomaly' as const,
          type: a.kind,
          data: { id: a.id, ...JSON.parse(a.data) },
        })),
      ];
      // A stable sort keeps each source's own order among entries of the same millisecond.
      return entries.sort((a, b) => a.at - b.at);
    },

    /** The order's refunds, oldest first, as the console shows them. */
    async refunds(id: string): Promise<AdminRefund[]> {
      const rows = await db
        .selectFrom('refunds')
        .selectAll()
        .where('order_id', '=', id)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        outRefundNo: r.out_refund_no,
        amount: r.amount,
        reason: r.reason,
        status: r.status,
        refundId: r.refund_id,
        lastError: r.last_error,
        requestedBy: r.requested_by,
        createdAt: new Date(r.created_at).toISOString(),
        settledAt: r.settled_at === null ? null : new Date(r.settled_at).toISOString(),
      }));
    },
  };
}
