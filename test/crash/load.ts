/**
 * The traffic of a crash run, as the mini program and WeChat produce it: order creations with
 * Idempotency-Keys, payments at the simulator (whose notifications reach the service through
 * the relay), and signed duplicate notifications posted directly, as WeChat's other servers
 * and its retries would. Every random choice is drawn before the requests go out, so the plan
 * depends on the seed alone, not on which answer came back first.
 */
import { createNonce, formatWechatTime } from '../../src/wechat/v2/fields.js';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { CATALOGUE, CREDENTIALS } from '../service/harness.js';
import type { World } from './world.js';

/** What the traffic needs of a run: its seeded choices, its ledger, and the doors to call. */
export type Traffic = Pick<World, 'rng' | 'ledger' | 'door' | 'user' | 'api' | 'sim' | 'admin'>;

export interface PayableOrder {
  outTradeNo: string;
  amount: number;
  prepayId: string;
}

export interface PaidOrder {
  outTradeNo: string;
  amount: number;
  transactionId: string;
}

/** Draws `count` new Idempotency-Keys with their bodies and records them as sent. */
export function newKeys(world: Traffic, prefix: string, count: number): string[] {
  const skus = CATALOGUE.map((p) => p.sku);
  return Array.from({ length: count }, (_, i) => {
    const key = `${prefix}-${i}-${world.rng.int(0, 1e9).toString(36)}`;
    world.ledger.keys.set(key, { sku: world.rng.pick(skus), quantity: world.rng.int(1, 3) });
    return key;
  });
}

/** POST /api/orders for each key with its recorded body; keys given twice race each other. */
export async function createOrders(world: Traffic, keys: readonly string[]) {
  return Promise.all(
    keys.map(async (key) => {
      const body = world.ledger.keys.get(key);
      if (!body) throw new Error(`key ${key} was never drawn`);
      const answer = await world.api('POST', '/api/orders', body, { 'idempotency-key': key });
      return { key, ...answer };
    }),
  );
}

/** The orders a set of 201 answers can pay. */
export function payable(answers: Awaited<ReturnType<typeof createOrders>>): PayableOrder[] {
  return answers
    .filter((a) => a.status === 201)
    .map((a) => {
      const { order, payment } = a.json as {
        order: { outTradeNo: string; amount: number };
        payment: { package: string };
      };
      return {
        outTradeNo: order.outTradeNo,
        amount: order.amount,
        prepayId: payment.package.replace(/^prepay_id=/, ''),
      };
    });
}

/** The user pays each order at WeChat; some payments are followed by copies of their notification. */
export async function payBurst(world: Traffic, orders: readonly PayableOrder[]): Promise<PaidOrder[]> {
  const copies = orders.map(() => (world.rng.chance(0.4) ? world.rng.int(1, 3) : 0));
  const paid: PaidOrder[] = [];
  await Promise.all(
    orders.map(async (order, i) => {
      const res = await world.sim('/sim/pay', { prepay_id: order.prepayId, result: 'SUCCESS' });
      const transactionId = (res.json as { transaction_id?: string }).transaction_id;
      if (res.status !== 200 || !transactionId) {
        throw new Error(`the simulator refused to pay ${order.outTradeNo}: ${JSON.stringify(res.json)}`);
      }
      const done = { outTradeNo: order.outTradeNo, amount: order.amount, transactionId };
      paid.push(done);
      await Promise.all(Array.from({ length: copies[i] ?? 0 }, () => postNotification(world, done)));
    }),
  );
  return paid;
}

/** WeChat's retries after a restart: the notifications of some earlier payments, once more. */
export async function replayNotifications(world: Traffic, paid: readonly PaidOrder[]): Promise<void> {
  const chosen = paid.filter(() => world.rng.chance(0.3));
  await Promise.all(chosen.map((order) => postNotification(world, order)));
}

/**
 * A payment notification signed with the merchant key, built by the protocol layer exactly as
 * the simulator builds its own. The answer is read by the ledger off the relay.
 */
export async function postNotification(world: Traffic, order: PaidOrder): Promise<void> {
  const xml = buildPaymentNotification(
    {
      return_code: 'SUCCESS',
      return_msg: 'OK',
      appid: CREDENTIALS.appid,
      mch_id: CREDENTIALS.mchId,
      nonce_str: createNonce(),
      result_code: 'SUCCESS',
      openid: world.user.openid,
      is_subscribe: 'N',
      trade_type: 'JSAPI',
      bank_type: 'OTHERS',
      total_fee: String(order.amount),
      fee_type: 'CNY',
      cash_fee: String(order.amount),
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      time_end: formatWechatTime(Date.now()),
    },
    CREDENTIALS.key,
    'HMAC-SHA256',
  );
  await fetch(`${world.door.url}/payment/wxnotify`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: xml,
  }).then((res) => res.arrayBuffer());
}

/**
 * The admin refunds: POST /admin/orders/:id/refunds for each key with its recorded order and
 * body (keys given twice race each other, as a double click would).
 */
export async function sendRefunds(world: Traffic, keys: readonly string[]) {
  return Promise.all(
    keys.map(async (key) => {
      const refund = world.ledger.refundKeys.get(key);
      if (!refund) throw new Error(`refund key ${key} was never drawn`);
      const { orderId, ...body } = refund;
      const answer = await world.admin('POST', `/admin/orders/${encodeURIComponent(orderId)}/refunds`, body, {
        'idempotency-key': key,
      });
      return { key, ...answer };
    }),
  );
}

/** Draws a refund key of `amount` fen for `orderId` and records it as sent. */
export function newRefundKey(world: Traffic, prefix: string, orderId: string, amount: number): string {
  const key = `${prefix}-${world.rng.int(0, 1e9).toString(36)}`;
  world.ledger.refundKeys.set(key, { orderId, amount, reason: 'chaos' });
  return key;
}
