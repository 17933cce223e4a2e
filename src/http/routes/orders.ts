import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { Idempotent } from '../../idempotency/idempotency.js';
import { hashRequest } from '../../idempotency/request-hash.js';
import type { CreatedOrder, OrderService } from '../../orders/order-service.js';
import { toOrderView } from '../../orders/order-view.js';
import type { Refund } from '../../orders/refund.js';
import type { AuthedUser } from '../auth.js';
import { idempotencyKeyOf, sendIdempotent } from '../idempotency-header.js';
import { noteForLog } from '../request-log.js';
import { ErrorResponse, OrderIdParams, OrderSchema, PaymentSchema } from '../schemas.js';

export interface OrderRouteDeps {
  orders: OrderService;
  idempotent: Idempotent;
  /** The order's refunds, oldest first, shown with the order. */
  refundsOf(orderId: string): Promise<Refund[]>;
}

const me = (user: AuthedUser | null): AuthedUser => {
  if (!user) throw new AppError('UNAUTHORIZED', 'Log in first.');
  return user;
};

export async function orderRoutes(app: FastifyInstance, deps: OrderRouteDeps): Promise<void> {
  const { orders, idempotent } = deps;
  const orderReply = Type.Object({ order: OrderSchema });
  const idParams = { params: OrderIdParams };

  app.post<{ Body: { sku: string; quantity: number } }>(
    '/api/orders',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'Create an order, priced on the server, and get the wx.requestPayment parameters',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        // Any other field (a "price", say) is accepted and ignored: the server prices the order.
        body: Type.Object({
          sku: Type.String({ minLength: 1, maxLength: 64 }),
          quantity: Type.Integer({ minimum: 1, maximum: 999 }),
        }),
        response: {
          201: Type.Object({ order: OrderSchema, payment: PaymentSchema }),
          '4xx': ErrorResponse,
          '5xx': ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const user = me(request.user);
      const view = ({ order, payment }: CreatedOrder) => {
        noteForLog(request, { orderId: order.id });
        return { order: toOrderView(order), payment };
      };
      const input = { user, sku: request.body.sku, quantity: request.body.quantity, clientIp: request.ip };
      const key = idempotencyKeyOf(request);
      if (key === undefined) return reply.code(201).send(view(await orders.create(input)));
      // The phone's keys are scoped to its user: two users may pick the same key.
      const result = await idempotent(
        user.id,
        key,
        hashRequest(request.body),
        async ({ claim, resumeId }) => {
          const created =
            resumeId === null
              ? await orders.create({ ...input, claim })
              : await orders.resume(user.id, resumeId, request.ip);
          return { status: 201, body: JSON.stringify(view(created)), resourceId: created.order.id };
        },
      );
      return sendIdempotent(reply, result);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/orders/:id',
    {
      config: { auth: 'user' },
      schema: {
        summary: "One of the caller's orders, with its refunds",
        ...idParams,
        response: { 200: orderReply },
      },
    },
    async (request) => {
      const order = await orders.get(me(request.user).id, request.params.id);
      return { order: toOrderView(order, await deps.refundsOf(order.id)) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/orders/:id/events',
    {
      config: { auth: 'user' },
      schema: { summary: 'What happened to the order, oldest first', ...idParams },
    },
    async (request) => {
      const events = await orders.events(me(request.user).id, request.params.id);
      return {
        events: events.map((e) => ({
          type: e.type,
          data: e.data,
          createdAt: new Date(e.createdAt).toISOString(),
        })),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/orders/:id/sync',
    {
      config: { auth: 'user' },
      schema: {
        summary: '"I paid": ask WeChat for the order state (never marks PAID by itself)',
        ...idParams,
        response: { 200: orderReply },
      },
    },
    async (request) => ({ order: toOrderView(await orders.sync(me(request.user).id, request.params.id)) }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/orders/:id/close',
    {
      config: { auth: 'user' },
      schema: {
        summary: 'Close a pending order at WeChat and locally',
        ...idParams,
        response: { 200: orderReply },
      },
    },
    async (request) => ({ order: toOrderView(await orders.close(me(request.user).id, request.params.id)) }),
  );
}
