import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeyCaller } from '../../api-keys/api-keys.js';
import { AppError } from '../../errors.js';
import type { Idempotent } from '../../idempotency/idempotency.js';
import { hashRequest } from '../../idempotency/request-hash.js';
import type { CreatedOrder } from '../../orders/order-service.js';
import { NEW_PAYMENT_FIELDS, type NewPaymentBody } from '../../payments/new-payment.js';
import { toPaymentObject, toRefundObject } from '../../payments/payment-object.js';
import type { PaymentService } from '../../payments/payment-service.js';
import { idempotencyKeyOf, sendIdempotent } from '../idempotency-header.js';
import { type RefundPort, refundIdempotently } from '../refund-request.js';
import { ErrorResponse, OrderIdParams } from '../schemas.js';
import {
  CreatedPaymentSchema,
  NewPaymentSchema,
  PaymentObjectSchema,
  RefundObjectSchema,
} from '../v1-schemas.js';

export interface V1RouteDeps {
  payments: PaymentService;
  refunds: RefundPort;
  idempotent: Idempotent;
  /** code2Session, the user upserted; WeChat's session key never leaves the login client. */
  code2Session(code: string): Promise<{ openid: string; unionid: string | null }>;
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse };
const idempotencyHeader = Type.Object({ 'idempotency-key': Type.Optional(Type.String()) });
const paymentReply = Type.Object({ payment: PaymentObjectSchema });

const caller = (request: FastifyRequest): ApiKeyCaller => {
  if (!request.apiKey) throw new AppError('UNAUTHORIZED', 'An API key is required.');
  return request.apiKey;
};

/**
 * The server API for a shop's own backend (never the phone): API keys only (`config.auth:
 * 'apikey'`). Idempotency-Keys here are scoped to the key (`apikey:<id>`); payments are the
 * shop's, so every key sees every payment.
 */
export async function v1Routes(app: FastifyInstance, deps: V1RouteDeps): Promise<void> {
  const { payments, idempotent } = deps;

  app.post<{ Body: { code: string } }>(
    '/v1/code2session',
    {
      config: { auth: 'apikey' },
      schema: {
        summary:
          "Exchange a wx.login code for the user's openid (WeChat's session key never leaves weapp-pay)",
        body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Object({ openid: Type.String(), unionid: Type.Optional(Type.String()) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { openid, unionid } = await deps.code2Session(request.body.code);
      return unionid === null ? { openid } : { openid, unionid };
    },
  );

  app.post<{ Body: NewPaymentBody }>(
    '/v1/payments',
    {
      config: { auth: 'apikey' },
      // A misspelt field (out_trade_number) would otherwise be dropped and the payment made anyway.
      preValidation: async (request) => {
        const body = request.body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) return;
        const unknown = Object.keys(body).filter((k) => !NEW_PAYMENT_FIELDS.includes(k));
        if (unknown.length > 0) {
          throw new AppError(
            'VALIDATION_ERROR',
            `Unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a payment takes ${NEW_PAYMENT_FIELDS.join(', ')}.`,
          );
        }
      },
      schema: {
        summary: 'Create a payment for an amount the shop decided; get what wx.requestPayment takes',
        headers: idempotencyHeader,
        body: NewPaymentSchema,
        response: { 201: CreatedPaymentSchema, ...errors },
      },
    },
    async (request, reply) => {
      const apiKey = caller(request);
      const key = idempotencyKeyOf(request, 'A payment')!;
      const view = ({ order, payment }: CreatedOrder) => ({
        payment: toPaymentObject(order),
        requestPayment: payment,
      });
      const who = { apiKeyId: apiKey.id, clientIp: request.ip };
      const result = await idempotent(
        `apikey:${apiKey.id}`,
        key,
        hashRequest(request.body),
        async ({ claim, resumeId }) => {
          const created =
            resumeId === null
              ? await payments.create(request.body, { ...who, claim })
              : await payments.resume(resumeId, request.ip);
          return { status: 201, body: JSON.stringify(view(created)), resourceId: created.order.id };
        },
      );
      return sendIdempotent(reply, result);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/payments/:id',
    {
      config: { auth: 'apikey' },
      schema: {
        summary: 'One payment, with its refunds',
        params: OrderIdParams,
        response: { 200: paymentReply, ...errors },
      },
    },
    async (request) => {
      const { order, refunds } = await payments.get(request.params.id);
      return { payment: toPaymentObject(order, refunds) };
    },
  );

  app.get<{ Querystring: { out_trade_no: string } }>(
    '/v1/payments',
    {
      config: { auth: 'apikey' },
      schema: {
        summary: 'The payment with this out_trade_no, as a list of zero or one',
        querystring: Type.Object({ out_trade_no: Type.String({ minLength: 1, maxLength: 32 }) }),
        response: { 200: Type.Object({ payments: Type.Array(PaymentObjectSchema) }), ...errors },
      },
    },
    async (request) => {
      const found = await payments.findByOutTradeNo(request.query.out_trade_no);
      return { payments: found.map(({ order, refunds }) => toPaymentObject(order, refunds)) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/payments/:id/close',
    {
      config: { auth: 'apikey' },
      schema: {
        summary: 'Close a pending payment at WeChat and here (closing a closed one is a no-op)',
        params: OrderIdParams,
        response: { 200: paymentReply, ...errors },
      },
    },
    async (request) => {
      caller(request);
      const { order, refunds } = await payments.close(request.params.id);
      return { payment: toPaymentObject(order, refunds) };
    },
  );

  app.post<{ Params: { id: string }; Body: { amount: number; reason: string } }>(
    '/v1/payments/:id/refunds',
    {
      config: { auth: 'apikey' },
      schema: {
        summary: 'Refund all or part of a paid payment (at most 50 refunds, never more than was paid)',
        params: OrderIdParams,
        headers: idempotencyHeader,
        body: Type.Object({
          amount: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'fen' }),
          // 《申请退款》 refund_desc: at most 80 bytes; checked again in bytes by the protocol layer.
          reason: Type.String({ maxLength: 80 }),
        }),
        response: {
          201: Type.Object({ refund: RefundObjectSchema, payment: PaymentObjectSchema }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const apiKey = caller(request);
      const key = idempotencyKeyOf(request, 'A refund')!;
      const scope = `apikey:${apiKey.id}`;
      const ask = { scope, key, orderId: request.params.id, ...request.body, requestedBy: scope };
      const result = await refundIdempotently(deps, ask, (r, all) => ({
        refund: toRefundObject(r.refund),
        payment: toPaymentObject(r.order, all),
      }));
      return sendIdempotent(reply, result);
    },
  );
}
