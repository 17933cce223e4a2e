import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import type { CreatedOrder, OrderService } from '../../orders/order-service.js';
import { type OrderView, toOrderView } from '../../orders/order-view.js';
import type { Refund } from '../../orders/refund.js';
import type { AuthedUser } from '../auth.js';
import { ErrorResponse, OrderIdParams, OrderSchema, PaymentSchema } from '../schemas.js';

/** Idempotency keys are kept 24 hours, as Stripe and WeChat's own retry window suggest. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/**
 * An in-flight claim older than this was left by a crash: no request lives longer (three
 * unifiedorder attempts of at most WECHAT_TIMEOUT_MS each, plus back-off).
 */
export const IN_FLIGHT_STALE_MS = 60_000;

/**
 * An Idempotency-Key whose first request is still in flight: a claim older than any request can
 * live was left by a crash or a failed attempt, so this request takes it over and finishes the
 * same work (the order id it had reached, or null); a younger one is a 409 to retry later.
 */
export async function takeOverStale(
  idempotency: IdempotencyPort,
  id: { userId: string; key: string; requestHash: string },
  startedAt: number,
  now: number,
  what: string,
): Promise<string | null> {
  const taken =
    startedAt < now - IN_FLIGHT_STALE_MS
      ? await idempotency.takeOver({ ...id, staleBefore: now - IN_FLIGHT_STALE_MS, now })
      : undefined;
  if (!taken) {
    throw new AppError(
      'IDEMPOTENCY_KEY_IN_FLIGHT',
      `${what} with this Idempotency-Key is still being processed.`,
      { retryAfter: 1 },
    );
  }
  return taken.orderId;
}

/** A request whose Idempotency-Key claim was taken over while it ran (it outlived the claim). */
export function lostClaim(): AppError {
  return new AppError(
    'IDEMPOTENCY_KEY_IN_FLIGHT',
    'Another request with this Idempotency-Key took it over; retry to get its answer.',
    { retryAfter: 1 },
  );
}

type CreatedView = { order: OrderView; payment: CreatedOrder['payment'] };

export interface IdempotencyPort {
  begin(input: {
    userId: string;
    key: string;
    requestHash: string;
    now: number;
    ttlMs: number;
  }): Promise<
    | { kind: 'new' }
    | { kind: 'in_flight'; startedAt: number }
    | { kind: 'mismatch' }
    | { kind: 'done'; status: number; body: string }
  >;
  complete(input: {
    userId: string;
    key: string;
    status: number;
    body: string;
    orderId?: string;
  }): Promise<void>;
  abandon(input: { userId: string; key: string; claimedAt?: number }): Promise<void>;
  /** False when the claim made at `claimedAt` was taken over meanwhile. */
  attachOrder(input: { userId: string; key: string; orderId: string; claimedAt?: number }): Promise<boolean>;
  takeOver(input: {
    userId: string;
    key: string;
    requestHash: string;
    staleBefore: number;
    now: number;
  }): Promise<{ orderId: string | null } | undefined>;
  release(input: { userId: string; key: string; claimedAt?: number }): Promise<void>;
}

export interface OrderRouteDeps {
  orders: OrderService;
  idempotency: IdempotencyPort;
  clock: Clock;
  /** The order's refunds, oldest first, shown with the order. */
  refundsOf(orderId: string): Promise<Refund[]>;
}

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are the same request. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const me = (user: AuthedUser | null): AuthedUser => {
  if (!user) throw new AppError('UNAUTHORIZED', 'Log in first.');
  return user;
};

export async function orderRoutes(app: FastifyInstance, deps: OrderRouteDeps): Promise<void> {
  const { orders, idempotency, clock } = deps;
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
      const view = ({ order, payment }: CreatedOrder): CreatedView => ({
        order: toOrderView(order),
        payment,
      });
      const create = async (hooks: { saved?: (orderId: string) => Promise<void> } = {}) =>
        view(
          await orders.create(
            { user, sku: request.body.sku, quantity: request.body.quantity, clientIp: request.ip },
            hooks,
          ),
        );
      const resume = async (orderId: string) => view(await orders.resume(user.id, orderId, request.ip));
      const key = request.headers['idempotency-key'];
      if (key === undefined) return reply.code(201).send(await create());
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
        throw new AppError(
          'IDEMPOTENCY_KEY_INVALID',
          'Idempotency-Key must be 1 to 255 visible ASCII characters.',
        );
      }
      return withIdempotency(
        reply,
        { userId: user.id, key, requestHash: hashBody(request.body) },
        create,
        resume,
      );
    },
  );

  function hashBody(body: unknown): string {
    return createHash('sha256').update(stableJson(body)).digest('hex');
  }

  async function withIdempotency(
    reply: FastifyReply,
    id: { userId: string; key: string; requestHash: string },
    create: (hooks: { saved?: (orderId: string) => Promise<void> }) => Promise<CreatedView>,
    resume: (orderId: string) => Promise<CreatedView>,
  ) {
    const now = clock.now();
    const begun = await idempotency.begin({ ...id, now, ttlMs: IDEMPOTENCY_TTL_MS });
    let resumeOrderId: string | null = null;
    switch (begun.kind) {
      case 'done':
        return reply
          .code(begun.status)
          .header('idempotent-replayed', 'true')
          .type('application/json')
          .send(begun.body);
      case 'in_flight':
        resumeOrderId = await takeOverStale(idempotency, id, begun.startedAt, now, 'A request');
        break;
      case 'mismatch':
        throw new AppError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request body.',
        );
      case 'new':
        break;
      default: {
        const unreachable: never = begun;
        throw new Error(`unhandled idempotency state ${JSON.stringify(unreachable)}`);
      }
    }
    let orderSaved = resumeOrderId !== null;
    let result: CreatedView;
    try {
      result =
        resumeOrderId !== null
          ? await resume(resumeOrderId)
          : await create({
              saved: async (orderId) => {
                orderSaved = true;
                // The claim (made or taken over at `now`) may have been taken over by a retry
                // while this request was slow: then that retry owns the key, and this order
                // must never reach WeChat.
                const held = await idempotency.attachOrder({
                  userId: id.userId,
                  key: id.key,
                  orderId,
                  claimedAt: now,
                });
                if (!held) throw lostClaim();
              },
            });
    } catch (err) {
      // Nothing was promised to the client. If an order exists, the next retry with this key
      // resumes it (same out_trade_no, same fields); otherwise the key is simply forgotten.
      if (orderSaved) await idempotency.release({ ...id, claimedAt: now });
      else await idempotency.abandon({ ...id, claimedAt: now });
      throw err;
    }
    const body = JSON.stringify(result);
    // Stored before the reply goes out, so a retry after a crash gets these exact bytes (B5).
    await idempotency.complete({ ...id, status: 201, body, orderId: result.order.id });
    return reply.code(201).type('application/json').send(body);
  }

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
