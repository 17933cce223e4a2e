import type { Db } from '../db/database.js';
import type { OrderStatus } from '../orders/order.js';
import type { RefundStatus } from '../orders/refund.js';
import type { OurOrder, OurRefund } from './diff.js';

/** Values per IN list: far below SQLite's and PostgreSQL's limits on bound parameters. */
const CHUNK = 500;
const PAID_HERE: OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Our side of a day, as the comparison needs it: the orders and refunds the bill names, plus
 * those we hold as paid (orders by paid_at) or succeeded (refunds by settled_at) within the day.
 * Read-only.
 */
export async function readBooks(
  db: Db,
  ask: {
    outTradeNos: readonly string[];
    outRefundNos: readonly string[];
    day: { start: number; end: number };
  },
): Promise<{ orders: OurOrder[]; refunds: OurRefund[] }> {
  const orderColumns = ['id', 'out_trade_no', 'transaction_id', 'amount', 'status', 'paid_at'] as const;
  const orderRows = [
    ...(await db
      .selectFrom('orders')
      .select(orderColumns)
      .where('status', 'in', PAID_HERE)
      .where('paid_at', '>=', ask.day.start)
      .where('paid_at', '<', ask.day.end)
      .execute()),
  ];
  for (const part of chunks([...new Set(ask.outTradeNos)]))
    orderRows.push(
      ...(await db.selectFrom('orders').select(orderColumns).where('out_trade_no', 'in', part).execute()),
    );

  const refundQuery = () =>
    db
      .selectFrom('refunds')
      .innerJoin('orders', 'orders.id', 'refunds.order_id')
      .select([
        'refunds.id',
        'refunds.order_id',
        'orders.out_trade_no',
        'refunds.out_refund_no',
        'refunds.refund_id',
        'refunds.amount',
        'refunds.status',
        'refunds.settled_at',
      ]);
  const refundRows = [
    ...(await refundQuery()
      .where('refunds.status', '=', 'SUCCESS')
      .where('refunds.settled_at', '>=', ask.day.start)
      .where('refunds.settled_at', '<', ask.day.end)
      .execute()),
  ];
  for (const part of chunks([...new Set(ask.outRefundNos)]))
    refundRows.push(...(await refundQuery().where('refunds.out_refund_no', 'in', part).execute()));

  const orders = new Map<string, OurOrder>();
  for (const r of orderRows) {
    orders.set(r.id, {
      id: r.id,
      outTradeNo: r.out_trade_no,
      transactionId: r.transaction_id,
      amount: r.amount,
      status: r.status as OrderStatus,
      paidAt: r.paid_at,
    });
  }
  const refunds = new Map<string, OurRefund>();
  for (const r of refundRows) {
    refunds.set(r.id, {
      id: r.id,
      orderId: r.order_id,
      outTradeNo: r.out_trade_no,
      outRefundNo: r.out_refund_no,
      refundId: r.refund_id,
      amount: r.amount,
      status: r.status as RefundStatus,
      settledAt: r.settled_at,
    });
  }
  return { orders: [...orders.values()], refunds: [...refunds.values()] };
}
