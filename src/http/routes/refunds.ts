import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Idempotent } from '../../idempotency/idempotency.js';
import type { Order } from '../../orders/order.js';
import { toOrderView } from '../../orders/order-view.js';
import type { Refund } from '../../orders/refund.js';
import { idempotencyKeyOf, sendIdempotent } from '../idempotency-header.js';
import { type RefundPort, refundIdempotently } from '../refund-request.js';
import { ErrorResponse, OrderIdParams, OrderSchema, RefundViewSchema } from '../schemas.js';

export interface RefundRouteDeps {
  refunds: RefundPort;
  idempotent: Idempotent;
}

/** Idempotency keys of the admin live in their own scope, apart from every user's. */
const ADMIN_SCOPE = 'admin';

const AdminRefundSchema = Type.Intersect([
  RefundViewSchema,
  Type.Object({
    reason: Type.String(),
    refundId: Type.Union([Type.String(), Type.Null()], { description: "WeChat's refund_id once accepted" }),
    lastError: Type.Union([Type.String(), Type.Null()], {
      description: 'Why WeChat has not settled it yet (NOTENOUGH, a timeout…) or why it was refused',
    }),
    attempts: Type.Integer(),
  }),
]);

function adminView(refund: Refund, order: Order, all: readonly Refund[]) {
  return {
    refund: {
      outRefundNo: refund.outRefundNo,
      amount: refund.amount,
      status: refund.status,
      createdAt: new Date(refund.createdAt).toISOString(),
      settledAt: refund.settledAt === null ? null : new Date(refund.settledAt).toISOString(),
      reason: refund.reason,
      refundId: refund.refundId,
      lastError: refund.lastError,
      attempts: refund.attempts,
    },
    order: toOrderView(order, all),
  };
}

/**
 * `POST /admin/orders/:id/refunds {amount, reason}` with a required Idempotency-Key: the same key
 * and body replay the first answer; the refund is saved (out_refund_no fixed) before WeChat hears
 * of it, so a crash in between is finished by the next retry or the refund reconciler.
 */
export async function refundRoutes(app: FastifyInstance, deps: RefundRouteDeps): Promise<void> {
  app.post<{ Params: { id: string }; Body: { amount: number; reason: string } }>(
    '/admin/orders/:id/refunds',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Refund all or part of a paid order (at most 50 refunds, never more than was paid)',
        params: OrderIdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object({
          amount: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'fen' }),
          // 《申请退款》 refund_desc: at most 80 bytes; checked again in bytes by the protocol layer.
          reason: Type.String({ maxLength: 80 }),
        }),
        response: {
          201: Type.Object({ refund: AdminRefundSchema, order: OrderSchema }),
          '4xx': ErrorResponse,
          '5xx': ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request, 'A refund')!;
      const ask = {
        scope: ADMIN_SCOPE,
        key,
        orderId: request.params.id,
        ...request.body,
        requestedBy: ADMIN_SCOPE,
      };
      const result = await refundIdempotently(deps, ask, (r, all) => adminView(r.refund, r.order, all));
      return sendIdempotent(reply, result);
    },
  );
}
