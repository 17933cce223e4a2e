import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import type { Order } from '../../orders/order.js';
import { toOrderView } from '../../orders/order-view.js';
import type { Refund } from '../../orders/refund.js';
import { IdempotencyClaimLostError } from '../../orders/refund-store.js';
import { ErrorResponse, OrderIdParams, OrderSchema, RefundViewSchema } from '../schemas.js';
import { IDEMPOTENCY_TTL_MS, type IdempotencyPort, lostClaim, takeOverStale } from './orders.js';

export interface RefundRouteDeps {
  refunds: {
    request(input: {
      orderId: string;
      amount: number;
      reason: string;
      requestedBy: string;
      idempotencyKey?: { userId: string; key: string; claimedAt?: number };
    }): Promise<{ refund: Refund; order: Order }>;
    resume(refundId: string): Promise<{ refund: Refund; order: Order }>;
    listForOrder(orderId: string): Promise<Refund[]>;
  };
  idempotency: IdempotencyPort;
  clock: Clock;
}

/** Idempotency keys of the admin live in their own scope, apart from every user's. */
const ADMIN_SCOPE = 'admin';
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** The refusals `request` makes before it saves anything. */
const REFUSALS: ReadonlySet<string> = new Set([
  'VALIDATION_ERROR',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_REFUNDABLE',
  'REFUND_LIMIT_REACHED',
  'REFUND_EXCEEDS_PAID',
]);

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
 * and body replay the first answer; the refund is saved (out_refund_no fixed, and recorded on the
 * key in the same commit) before WeChat hears of it, so a crash in between is finished by the
 * next retry or the refund reconciler, never refunded twice.
 */
export async function refundRoutes(app: FastifyInstance, deps: RefundRouteDeps): Promise<void> {
  const { refunds, idempotency, clock } = deps;

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
      const key = request.headers['idempotency-key'];
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
        throw new AppError(
          'IDEMPOTENCY_KEY_INVALID',
          'A refund needs an Idempotency-Key header of 1 to 255 visible ASCII characters (a UUID), so a retry cannot refund twice.',
        );
      }
      const orderId = request.params.id;
      const requestHash = createHash('sha256')
        .update(JSON.stringify([orderId, request.body.amount, request.body.reason]))
        .digest('hex');
      const id = { userId: ADMIN_SCOPE, key, requestHash };
      const now = clock.now();
      const begun = await idempotency.begin({ ...id, now, ttlMs: IDEMPOTENCY_TTL_MS });
      let resumeId: string | null = null;
      switch (begun.kind) {
        case 'done':
          return reply
            .code(begun.status)
            .header('idempotent-replayed', 'true')
            .type('application/json')
            .send(begun.body);
        case 'mismatch':
          throw new AppError(
            'IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was used with a different refund.',
          );
        case 'in_flight':
          resumeId = await takeOverStale(idempotency, id, begun.startedAt, now, 'A refund');
          break;
        case 'new':
          break;
        default: {
          const unreachable: never = begun;
          throw new Error(`unhandled idempotency state ${JSON.stringify(unreachable)}`);
        }
      }
      let result: { refund: Refund; order: Order };
      try {
        result =
          resumeId !== null
            ? await refunds.resume(resumeId)
            : await refunds.request({
                orderId,
                ...request.body,
                requestedBy: ADMIN_SCOPE,
                idempotencyKey: { userId: ADMIN_SCOPE, key, claimedAt: now },
              });
      } catch (err) {
        if (err instanceof IdempotencyClaimLostError) throw lostClaim();
        // Refused before anything was saved (unpaid, too much, too many): the key is forgotten.
        // Anything else (the database lost mid-request) may have saved the refund, and the key
        // then points at it: the key is released, and its retry resumes that same refund.
        if (err instanceof AppError && REFUSALS.has(err.code))
          await idempotency.abandon({ ...id, claimedAt: now });
        else await idempotency.release({ ...id, claimedAt: now });
        throw err;
      }
      const body = JSON.stringify(
        adminView(result.refund, result.order, await refunds.listForOrder(orderId)),
      );
      // The refund id rides in the key's order_id column, so a takeover after a crash resumes it.
      await idempotency.complete({ ...id, status: 201, body, orderId: result.refund.id });
      return reply.code(201).type('application/json').send(body);
    },
  );
}
