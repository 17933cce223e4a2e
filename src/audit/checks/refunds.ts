import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { AuditCheck } from '../audit.js';

/** WeChat's limit of refunds per order (《申请退款》). */
export const MAX_REFUNDS_PER_ORDER = 50;

/**
 * The columns of migration 0004_refunds the checks read, declared here so they compile against a
 * schema without refunds; they run only where the `refunds` table exists.
 */
type RefundTables = {
  refunds: { id: string; order_id: string; amount: number; status: string };
  orders: { refunded_fen: number };
};

const withRefunds = (db: Db) => db.withTables<RefundTables>();

/**
 * Refunds never return more than was paid. "Reserved" is every refund that is not CLOSED (a
 * PROCESSING one may still succeed), and also the order's own `refunded_fen` ledger; "paid" is
 * the order's amount once it has a transaction_id, nothing before.
 */
export const refundsWithinPaid: AuditCheck = {
  name: 'refunds-within-paid',
  description: 'the refunds of an order (every one not CLOSED) never add up to more than it paid',
  requires: ['refunds'],
  async findings(db) {
    const rdb = withRefunds(db);
    const perOrder = rdb
      .selectFrom('orders as o')
      .select((eb) => [
        'o.id',
        'o.refunded_fen',
        sql<number>`case when o.transaction_id is null then 0 else o.amount end`.as('paid'),
        eb
          .selectFrom('refunds as r')
          .select(sql<number>`coalesce(sum(r.amount), 0)`.as('s'))
          .whereRef('r.order_id', '=', 'o.id')
          .where('r.status', '<>', 'CLOSED')
          .as('reserved'),
      ]);
    const rows = await rdb
      .selectFrom(perOrder.as('t'))
      .selectAll()
      .where(sql<boolean>`t.reserved > t.paid or t.refunded_fen > t.paid`)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      detail: `refunds reserve ${Number(r.reserved)} fen (ledger ${r.refunded_fen}) of ${Number(r.paid)} fen paid`,
    }));
  },
};

export const refundCountLimit: AuditCheck = {
  name: 'refund-count-limit',
  description: `no order has more than ${MAX_REFUNDS_PER_ORDER} refunds`,
  requires: ['refunds'],
  async findings(db) {
    const rows = await withRefunds(db)
      .selectFrom('refunds')
      .select((eb) => ['order_id', eb.fn.countAll<number>().as('n')])
      .groupBy('order_id')
      .having((eb) => eb.fn.countAll(), '>', MAX_REFUNDS_PER_ORDER)
      .execute();
    return rows.map((r) => ({ id: r.order_id, detail: `${Number(r.n)} refunds` }));
  },
};
