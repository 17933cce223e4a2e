import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ConsoleData } from '../../admin/console-data.js';
import { toCsv } from '../../admin/csv.js';
import type { AdminOrder } from '../../admin/order-queries.js';
import { AppError } from '../../errors.js';
import {
  AdminErrors,
  iso,
  MAX_CSV_ROWS,
  MaybeText,
  OrderListQuery,
  orderFilter,
  paging,
  type RawOrderListQuery,
  Time,
} from '../admin-query.js';
import { OrderIdParams } from '../schemas.js';

const MaybeTime = Type.Union([Time, Type.Null()]);

export const AdminOrderSchema = Type.Object({
  id: Type.String(),
  outTradeNo: Type.String(),
  transactionId: MaybeText,
  status: Type.String(),
  sku: Type.String(),
  quantity: Type.Integer(),
  description: Type.String(),
  amount: Type.Integer({ description: 'fen' }),
  currency: Type.String(),
  openid: Type.String(),
  paidSource: MaybeText,
  createdAt: Time,
  paidAt: MaybeTime,
  updatedAt: Time,
  expiresAt: Time,
});

const adminOrderView = (o: AdminOrder) => ({
  ...o,
  createdAt: iso(o.createdAt),
  paidAt: iso(o.paidAt),
  updatedAt: iso(o.updatedAt),
  expiresAt: iso(o.expiresAt),
});

const CSV_COLUMNS = [
  'id',
  'out_trade_no',
  'transaction_id',
  'status',
  'sku',
  'quantity',
  'description',
  'amount_fen',
  'currency',
  'openid',
  'paid_source',
  'created_at',
  'paid_at',
] as const;

/** The console's order views: a filtered list (JSON or CSV) and one order's whole story. */
export async function adminOrderRoutes(app: FastifyInstance, deps: { data: ConsoleData }): Promise<void> {
  const { orders } = deps.data;

  app.get<{ Querystring: RawOrderListQuery }>(
    '/admin/orders',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Orders, newest first, filtered and paged (page from 1, limit up to 200)',
        security: [{ bearer: [] }],
        querystring: OrderListQuery,
        response: {
          200: Type.Object({
            orders: Type.Array(AdminOrderSchema),
            page: Type.Integer(),
            limit: Type.Integer(),
            total: Type.Integer({ description: 'orders matching the filters, all pages' }),
          }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const filter = orderFilter(request.query);
      const { page, limit, offset } = paging(request.query);
      const { orders: rows, total } = await orders.list(filter, offset, limit);
      return { orders: rows.map(adminOrderView), page, limit, total };
    },
  );

  app.get<{ Querystring: RawOrderListQuery }>(
    '/admin/orders.csv',
    {
      config: { auth: 'admin' },
      schema: {
        summary: `Every order matching the filters as CSV (UTF-8 with BOM, at most ${MAX_CSV_ROWS} rows; page and limit are ignored)`,
        security: [{ bearer: [] }],
        querystring: OrderListQuery,
        response: { 200: { description: 'text/csv', type: 'string' }, ...AdminErrors },
      },
    },
    async (request, reply) => {
      const filter = orderFilter(request.query);
      const { orders: rows, total } = await orders.list(filter, 0, MAX_CSV_ROWS);
      if (total > MAX_CSV_ROWS) {
        throw new AppError(
          'EXPORT_TOO_LARGE',
          `${total} orders match; an export holds at most ${MAX_CSV_ROWS}. Narrow the date range or filters.`,
        );
      }
      const csv = toCsv(
        CSV_COLUMNS,
        rows.map((o) => [
          o.id,
          o.outTradeNo,
          o.transactionId,
          o.status,
          o.sku,
          o.quantity,
          o.description,
          o.amount,
          o.currency,
          o.openid,
          o.paidSource,
          iso(o.createdAt),
          iso(o.paidAt),
        ]),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="orders.csv"')
        .send(`\uFEFF${csv}`);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/orders/:id',
    {
      config: { auth: 'admin' },
      schema: {
        summary:
          'One order, its timeline (events, verified payment evidence with every raw field, anomalies) and its refunds',
        security: [{ bearer: [] }],
        params: OrderIdParams,
        response: {
          200: Type.Object({
            order: AdminOrderSchema,
            timeline: Type.Array(
              Type.Object({
                at: Time,
                kind: Type.Union([Type.Literal('event'), Type.Literal('evidence'), Type.Literal('anomaly')]),
                type: Type.String(),
                data: Type.Unknown(),
              }),
            ),
            refunds: Type.Array(
              Type.Object({
                id: Type.String(),
                outRefundNo: Type.String(),
                amount: Type.Integer({ description: 'fen' }),
                reason: Type.String(),
                status: Type.String({ description: 'PROCESSING, SUCCESS, CHANGE or CLOSED' }),
                refundId: Type.Union([Type.String(), Type.Null()]),
                lastError: Type.Union([Type.String(), Type.Null()]),
                requestedBy: Type.String(),
                createdAt: Time,
                settledAt: Type.Union([Time, Type.Null()]),
              }),
            ),
          }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const order = await orders.find(request.params.id);
      if (!order) throw new AppError('ORDER_NOT_FOUND', `No order has id ${request.params.id}.`);
      const [timeline, refunds] = await Promise.all([orders.timeline(order.id), orders.refunds(order.id)]);
      return {
        order: adminOrderView(order),
        timeline: timeline.map((t) => ({ ...t, at: iso(t.at) })),
        refunds,
      };
    },
  );
}
