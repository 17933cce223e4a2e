import type { Logger } from 'pino';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { Clock } from '../clock.js';
import { timeOrderedUuid } from '../db/time-ordered-id.js';
import { AppError } from '../errors.js';
import type { IdempotencyClaim } from '../idempotency/idempotency-store.js';
import type { Metrics } from '../observability/metrics.js';
import { WechatRejectedError } from '../wechat/errors.js';
import { truncateUtf8 } from '../wechat/v2/fields.js';
import { closeAtWechat } from './close-at-wechat.js';
import type { Order } from './order.js';
import type { OrderStorePort, PaymentGateway, PaymentParams } from './ports.js';
import type { createQuerySettler } from './query-settler.js';
import { withUpstreamRetry } from './upstream-retry.js';

/** A prepay_id lives 2 hours at WeChat (《统一下单》). */
export const PREPAY_TTL_MS = 2 * 60 * 60 * 1000;
/** WeChat's body limit is 127 UTF-8 bytes, not characters (《统一下单》: body String(127)). */
export const DESCRIPTION_MAX_BYTES = 127;

export interface OrderServiceDeps {
  orders: OrderStorePort;
  catalogue: Catalogue;
  /** The payment API (v2 or v3), chosen in src/main.ts. */
  pay: Pick<PaymentGateway, 'prepayRequest' | 'prepay' | 'payParams' | 'close'>;
  settle: ReturnType<typeof createQuerySettler>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  newOutTradeNo: () => string;
  newId?: () => string;
  /** Waits between upstream retries; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
  settings: {
    orderTtlMs: number;
    maxOrderAmount: number;
  };
}

export interface CreateOrderInput {
  user: { id: string; openid: string };
  sku: string;
  quantity: number;
  clientIp: string;
  /** The Idempotency-Key claim the order answers, recorded on the key in the order's commit. */
  claim?: IdempotencyClaim;
}

/** An order whose amount and description are already decided (the catalogue's, or the shop's via /v1). */
export interface PlaceOrderInput {
  userId: string;
  openid: string;
  sku: string;
  quantity: number;
  /** At most {@link DESCRIPTION_MAX_BYTES} UTF-8 bytes. */
  description: string;
  amount: number;
  /** The shop's own out_trade_no; a fresh one otherwise. */
  outTradeNo?: string;
  /** How long the order may be paid; ORDER_TTL_SECONDS otherwise. */
  ttlMs?: number;
  attach?: string;
  apiKeyId?: string;
  metadata?: Readonly<Record<string, string>>;
  notifyUrl?: string;
  claim?: IdempotencyClaim;
}

export interface CreatedOrder {
  order: Order;
  payment: PaymentParams;
}

export function createOrderService(deps: OrderServiceDeps) {
  const { orders, clock, settings } = deps;
  const newId = deps.newId ?? (() => timeOrderedUuid(clock.now()));

  async function ownOrder(userId: string, id: string): Promise<Order> {
    const order = await orders.findByIdForUser(id, userId);
    // Someone else's order and a missing one look the same: the answer never reveals it exists.
    if (!order) throw new AppError('ORDER_NOT_FOUND', 'No such order.');
    return order;
  }

  /** Creates the order at WeChat with the stored request, retrying retryable failures with identical fields. */
  async function prepay(order: Order, request: Readonly<Record<string, string>>): Promise<string> {
    const call = () => deps.pay.prepay(request);
    try {
      const result = await withUpstreamRetry('unifiedorder', call, deps, (err, attempt) =>
        orders.addEvent(
          order.id,
          'prepay_failed',
          { attempt, code: errorCode(err), retrying: true },
          clock.now(),
        ),
      );
      return result.prepayId;
    } catch (err) {
      await orders.addEvent(
        order.id,
        'prepay_failed',
        { error: (err as Error).name, code: errorCode(err) },
        clock.now(),
      );
      if (err instanceof WechatRejectedError) {
        const code = err.failure.errCode;
        if (code === 'ORDERPAID') {
          // Already paid at WeChat: settle by query, never by guessing.
          await deps.settle(order, 'query');
        }
        throw new AppError('PAYMENT_REJECTED', `WeChat Pay refused the order (${code}).`, { cause: err });
      }
      throw new AppError('PAYMENT_UNAVAILABLE', 'WeChat Pay is not answering; try again shortly.', {
        cause: err,
        retryAfter: 2,
      });
    }
  }

  /** A live prepay_id for the order, reusing the stored one while it has a minute left. */
  async function ensurePayment(order: Order, clientIp: string): Promise<CreatedOrder> {
    let request = order.prepayRequest;
    if (!request) {
      // Only orders saved before requests were stored with them get here.
      request = deps.pay.prepayRequest(order, clientIp);
      await orders.savePrepayRequest(order.id, request, clock.now());
      order = (await orders.findById(order.id)) ?? order;
    }
    if (order.prepayId !== null && (order.prepayExpiresAt ?? 0) > clock.now() + 60_000) {
      return { order, payment: deps.pay.payParams(order.prepayId) };
    }
    const prepayId = await prepay(order, request);
    const now = clock.now();
    const saved = await orders.savePrepay(order.id, { prepayId, prepayExpiresAt: now + PREPAY_TTL_MS }, now);
    return { order: saved, payment: deps.pay.payParams(prepayId) };
  }

  /**
   * Saves the order (so its out_trade_no is fixed), with the exact request WeChat will see, in one
   * commit, and only then calls WeChat. A retry after SYSTEMERROR, a timeout or a reset reuses the
   * saved fields. The catalogue path and /v1 payments both come through here.
   */
  async function place(input: PlaceOrderInput, clientIp: string): Promise<CreatedOrder> {
    const now = clock.now();
    const fixed = {
      outTradeNo: input.outTradeNo ?? deps.newOutTradeNo(),
      description: input.description,
      amount: input.amount,
      openid: input.openid,
      expiresAt: now + (input.ttlMs ?? settings.orderTtlMs),
      ...(input.attach !== undefined && { attach: input.attach }),
    };
    const order = await orders.insert(
      {
        ...fixed,
        id: newId(),
        userId: input.userId,
        sku: input.sku,
        quantity: input.quantity,
        currency: 'CNY',
        prepayRequest: deps.pay.prepayRequest(fixed, clientIp),
        ...(input.apiKeyId !== undefined && { apiKeyId: input.apiKeyId }),
        ...(input.metadata !== undefined && { metadata: input.metadata }),
        ...(input.notifyUrl !== undefined && { notifyUrl: input.notifyUrl }),
        ...(input.claim && { idempotencyClaim: input.claim }),
      },
      now,
    );
    return ensurePayment(order, clientIp);
  }

  /** Finishes an order whose creation was interrupted; only a PENDING order can be. */
  async function finish(order: Order, clientIp: string): Promise<CreatedOrder> {
    if (order.status !== 'PENDING') {
      throw new AppError('ORDER_NOT_PENDING', `This order is already ${order.status}; start a new one.`);
    }
    return ensurePayment(order, clientIp);
  }

  /** Asks WeChat about an order that may still change (pending, or closed here but maybe paid there). */
  async function syncOrder(order: Order): Promise<Order> {
    if (order.status !== 'PENDING' && order.status !== 'CLOSED') return order;
    return deps.settle(order, 'query');
  }

  return {
    /** Prices the order from the catalogue, then places it. */
    async create(input: CreateOrderInput): Promise<CreatedOrder> {
      const product = deps.catalogue.find(input.sku);
      if (!product)
        throw new AppError('UNKNOWN_PRODUCT', `There is no product with sku ${JSON.stringify(input.sku)}.`);
      const amount = product.price * input.quantity;
      if (!Number.isSafeInteger(amount) || amount < 1 || amount > settings.maxOrderAmount) {
        throw new AppError(
          'AMOUNT_OUT_OF_RANGE',
          `An order must total between 1 and ${settings.maxOrderAmount} fen; this one would be ${amount}.`,
        );
      }
      return place(
        {
          userId: input.user.id,
          openid: input.user.openid,
          sku: product.sku,
          quantity: input.quantity,
          description: truncateUtf8(product.name, DESCRIPTION_MAX_BYTES),
          amount,
          ...(input.claim && { claim: input.claim }),
        },
        input.clientIp,
      );
    },

    place,

    /**
     * Finishes an order whose creation was interrupted (a crash, or unifiedorder failing every
     * retry): the stored request is sent again unchanged, so WeChat sees one out_trade_no with
     * byte-identical fields, and never a second order number for one local order.
     */
    async resume(userId: string, orderId: string, clientIp: string): Promise<CreatedOrder> {
      return finish(await ownOrder(userId, orderId), clientIp);
    },

    /** {@link resume} for the shop's server, which may finish any order. */
    async resumeById(orderId: string, clientIp: string): Promise<CreatedOrder> {
      const order = await orders.findById(orderId);
      if (!order) throw new AppError('ORDER_NOT_FOUND', 'No such payment.');
      return finish(order, clientIp);
    },

    get: ownOrder,

    async events(userId: string, id: string) {
      const order = await ownOrder(userId, id);
      return orders.events(order.id);
    },

    /**
     * The phone says "I paid". That claim only triggers an order query; it never marks an order PAID.
     */
    async sync(userId: string, id: string): Promise<Order> {
      return syncOrder(await ownOrder(userId, id));
    },

    /** The same order query for an operator (POST /admin/orders/:id/sync), whoever owns the order. */
    async syncAny(id: string): Promise<Order> {
      const order = await orders.findById(id);
      if (!order) throw new AppError('ORDER_NOT_FOUND', `No order has id ${id}.`);
      return syncOrder(order);
    },

    /** Closes a pending order at WeChat, then locally. A close answered ORDERPAID means paid. */
    async close(userId: string, id: string): Promise<Order> {
      return closeOrder(await ownOrder(userId, id));
    },

    /** {@link close} for the shop's server, which may close any order. */
    async closeById(id: string): Promise<Order> {
      const order = await orders.findById(id);
      if (!order) throw new AppError('ORDER_NOT_FOUND', 'No such payment.');
      return closeOrder(order);
    },
  };

  async function closeOrder(order: Order): Promise<Order> {
    if (order.status === 'CLOSED') return order;
    if (order.status !== 'PENDING') {
      throw new AppError(
        'ORDER_NOT_PENDING',
        `Only a pending order can be closed; this one is ${order.status}.`,
      );
    }
    return closeAtWechat(order, deps);
  }
}

export type OrderService = ReturnType<typeof createOrderService>;

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}
