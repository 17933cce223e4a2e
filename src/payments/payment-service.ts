import { AppError } from '../errors.js';
import type { IdempotencyClaim } from '../idempotency/idempotency-store.js';
import type { Order } from '../orders/order.js';
import type { CreatedOrder, OrderService } from '../orders/order-service.js';
import type { Refund } from '../orders/refund.js';
import { checkNewPayment, type NewPaymentBody } from './new-payment.js';

export interface PaymentServiceDeps {
  orders: Pick<OrderService, 'place' | 'resumeById' | 'closeById'>;
  store: {
    findById(id: string): Promise<Order | undefined>;
    findByOutTradeNo(outTradeNo: string): Promise<Order | undefined>;
  };
  users: {
    upsertByOpenid(user: { openid: string; unionid: string | null }, now: number): Promise<{ id: string }>;
  };
  refundsOf(orderId: string): Promise<Refund[]>;
  clock: { now(): number };
  settings: { version: 'v2' | 'v3'; maxOrderAmount: number };
}

export type PaymentService = ReturnType<typeof createPaymentService>;

/**
 * Payments a shop's own backend asks for through /v1: the shop decides amount and description,
 * weapp-pay does everything WeChat. A payment is an order like the catalogue's (no product:
 * `sku` empty, quantity 1), so the same state machine, notification path, reconciler and
 * refunds apply to it.
 */
export function createPaymentService(deps: PaymentServiceDeps) {
  const { orders, store, settings } = deps;

  async function found(id: string): Promise<Order> {
    const order = await store.findById(id);
    if (!order) throw new AppError('ORDER_NOT_FOUND', `There is no payment ${JSON.stringify(id)}.`);
    return order;
  }

  return {
    /**
     * Checks the body, then saves the order (its out_trade_no fixed, the key's claim recorded in
     * the same commit; a taken out_trade_no is refused there by the unique index, 409) and asks
     * WeChat for the prepay_id. The openid need not have logged in here:
     * the shop may hold it from its own login, and WeChat refuses one that is not this appid's.
     */
    async create(
      body: NewPaymentBody,
      caller: { apiKeyId: string; clientIp: string; claim?: IdempotencyClaim },
    ): Promise<CreatedOrder> {
      checkNewPayment(body, settings);
      const user = await deps.users.upsertByOpenid({ openid: body.openid, unionid: null }, deps.clock.now());
      return orders.place(
        {
          userId: user.id,
          openid: body.openid,
          sku: '',
          quantity: 1,
          description: body.description,
          amount: body.amount,
          apiKeyId: caller.apiKeyId,
          ...(body.out_trade_no !== undefined && { outTradeNo: body.out_trade_no }),
          ...(body.expires_in !== undefined && { ttlMs: body.expires_in * 1000 }),
          ...(body.attach !== undefined && { attach: body.attach }),
          ...(body.metadata !== undefined && { metadata: body.metadata }),
          ...(body.notify !== undefined && { notifyUrl: body.notify }),
          ...(caller.claim && { claim: caller.claim }),
        },
        caller.clientIp,
      );
    },

    /** Finishes a payment whose creation was interrupted (the same out_trade_no and fields). */
    resume: (id: string, clientIp: string) => orders.resumeById(id, clientIp),

    async get(id: string): Promise<{ order: Order; refunds: Refund[] }> {
      const order = await found(id);
      return { order, refunds: await deps.refundsOf(order.id) };
    },

    async findByOutTradeNo(outTradeNo: string): Promise<{ order: Order; refunds: Refund[] }[]> {
      const order = await store.findByOutTradeNo(outTradeNo);
      return order ? [{ order, refunds: await deps.refundsOf(order.id) }] : [];
    },

    async close(id: string): Promise<{ order: Order; refunds: Refund[] }> {
      const order = await orders.closeById((await found(id)).id);
      return { order, refunds: await deps.refundsOf(order.id) };
    },
  };
}
