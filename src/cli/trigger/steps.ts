/**
 * The building blocks of `weapp-pay trigger`, each one real request (or a wait) against the
 * running service and its simulator, reported as a step: log in as the mini program does, order,
 * pay at the simulator's cashier, refund, and wait for the service to learn what happened.
 */
import { randomUUID } from 'node:crypto';
import type { OrderPage } from '../orders.js';
import { yuan } from '../orders.js';
import type { ServiceClient } from '../service-client.js';
import { type Report, TriggerError } from './report.js';
import type { Simulators } from './simulator.js';

export interface TriggerWorld {
  service: ServiceClient;
  sims: Simulators;
  report: Report;
  timeoutMs: number;
  sku: string | undefined;
  quantity: number;
}

export interface Bought {
  token: string;
  orderId: string;
  outTradeNo: string;
  amount: number;
  payment: { timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string };
}

interface SimAttempt {
  kind: string;
  attempt: number;
  copy: number;
  status: string;
  http_status: number | null;
  error?: string;
  url: string;
}

const POLL_MS = 200;

/** wx.login at the simulator, then POST /api/login; then an order of a catalogue product. */
export async function buy({ service, sims, report, sku, quantity }: TriggerWorld): Promise<Bought> {
  const login = await sims.login.post<{ code?: string; openid?: string; error?: string }>('/sim/login', {
    appid: sims.wechat.appid,
  });
  if (login.status !== 200 || !login.body.code) {
    throw new TriggerError(
      `the simulator refused a login for appid ${sims.wechat.appid} (${login.body.error ?? login.status}): it does not know the service's WECHAT_APPID`,
    );
  }
  const { token } = await service.call<{ token: string }>('POST', '/api/login', {
    body: { code: login.body.code },
  });
  report.done(
    'logged in as the mini program',
    `POST /sim/login, POST /api/login; openid ${login.body.openid}`,
  );

  const chosen = sku ?? (await firstProduct(service, token));
  const created = await service.call<{
    order: { id: string; outTradeNo: string; amount: number };
    payment: Bought['payment'];
  }>('POST', '/api/orders', {
    bearer: token,
    body: { sku: chosen, quantity },
    headers: { 'idempotency-key': randomUUID() },
  });
  const { order, payment } = created;
  report.order = { id: order.id, outTradeNo: order.outTradeNo };
  report.done(
    `ordered ${quantity} × ${chosen} for ${yuan(order.amount)}`,
    `POST /api/orders; order ${order.id}, out_trade_no ${order.outTradeNo}`,
  );
  // The order must be at this simulator: else the service talks to some other WeChat.
  const known = await sims.pay.get<{ orders: unknown[] }>(
    `/sim/orders?${new URLSearchParams({ mch_id: sims.wechat.mchId, out_trade_no: order.outTradeNo })}`,
  );
  if (known.orders.length !== 1) {
    throw new TriggerError(
      `the simulator at ${sims.pay.url} does not have the order the service just placed (${order.outTradeNo}): the service talks to another WeChat (${sims.wechat.payBaseUrl})`,
    );
  }
  return { token, orderId: order.id, outTradeNo: order.outTradeNo, amount: order.amount, payment };
}

async function firstProduct(service: ServiceClient, token: string): Promise<string> {
  const { products } = await service.call<{ products: { sku: string }[] }>('GET', '/api/products', {
    bearer: token,
  });
  const first = products[0];
  if (!first) throw new TriggerError('the service has no product in its catalogue (CATALOGUE_FILE)');
  return first.sku;
}

/** Pays (or fails to pay) at the simulator's cashier, as wx.requestPayment does; `fault` is a notification fault. */
export async function pay(world: TriggerWorld, bought: Bought, result: 'SUCCESS' | 'FAIL', fault?: string) {
  const answer = await world.sims.pay.post<{
    errMsg?: string;
    trade_state?: string;
    transaction_id?: string;
  }>(
    '/sim/pay',
    { result, appId: world.sims.wechat.appid, payment: bought.payment },
    fault ? { 'x-sim-fault': fault } : {},
  );
  // The cashier answers 200 with the state it moved the order to; anything else is a refusal.
  const state = answer.body.trade_state;
  if (answer.status !== 200 || state !== (result === 'SUCCESS' ? 'SUCCESS' : 'PAYERROR')) {
    throw new TriggerError(
      `the simulator's cashier refused the payment (${answer.status} ${answer.body.errMsg ?? ''})`,
    );
  }
  world.report.done(
    result === 'SUCCESS'
      ? "paid at the simulator's cashier"
      : "the payment failed at the simulator's cashier",
    `POST /sim/pay ${result}${fault ? ` with the ${fault} fault` : ''}: ${answer.body.errMsg}${answer.body.transaction_id ? `, transaction ${answer.body.transaction_id}` : ''}`,
  );
}

/** The order as GET /admin/orders/:id has it, polled until `done` says so or the time is up. */
export async function waitForOrder(
  world: TriggerWorld,
  bought: Bought,
  done: (page: OrderPage) => boolean | string,
  what: string,
): Promise<OrderPage> {
  const deadline = Date.now() + world.timeoutMs;
  for (;;) {
    const page = await world.service.admin<OrderPage>(
      'GET',
      `/admin/orders/${encodeURIComponent(bought.orderId)}`,
    );
    const verdict = done(page);
    if (typeof verdict === 'string') throw new TriggerError(verdict);
    if (verdict) return page;
    if (Date.now() > deadline) {
      const attempts = await notificationAttempts(world, bought);
      throw new TriggerError(
        `the service did not ${what} within ${world.timeoutMs / 1000} s (order ${page.order.status}${
          page.refunds[0] ? `, refund ${page.refunds[0].status}` : ''
        }). ${describeAttempts(attempts)}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The simulator's delivery attempts for the order, oldest first. */
export async function notificationAttempts(
  world: TriggerWorld,
  bought: Bought,
  kind?: string,
): Promise<SimAttempt[]> {
  const query = new URLSearchParams({ mch_id: world.sims.wechat.mchId, out_trade_no: bought.outTradeNo });
  if (kind) query.set('kind', kind);
  return (await world.sims.pay.get<{ attempts: SimAttempt[] }>(`/sim/notifications?${query}`)).attempts;
}

/** Waits until the simulator's attempts satisfy `enough`. */
export async function waitForAttempts(
  world: TriggerWorld,
  bought: Bought,
  enough: (attempts: SimAttempt[]) => boolean,
  what: string,
): Promise<SimAttempt[]> {
  const deadline = Date.now() + world.timeoutMs;
  for (;;) {
    const attempts = await notificationAttempts(world, bought, 'payment');
    if (enough(attempts)) return attempts;
    if (Date.now() > deadline)
      throw new TriggerError(`the simulator did not ${what} within ${world.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function describeAttempts(attempts: SimAttempt[]): string {
  if (attempts.length === 0) return 'The simulator has sent no notification for it yet.';
  const lines = attempts.map(
    (a) =>
      `${a.kind} attempt ${a.attempt}${a.copy > 1 ? ` copy ${a.copy}` : ''} to ${a.url}: ${a.status}${
        a.http_status === null ? '' : ` (HTTP ${a.http_status})`
      }${a.error ? ` ${a.error}` : ''}`,
  );
  return `The simulator's notifications: ${lines.join('; ')}. Is WECHAT_NOTIFY_URL reachable from the simulator?`;
}

/** Refunds the whole order through POST /admin/orders/:id/refunds. */
export async function refundAll(world: TriggerWorld, bought: Bought, reason: string): Promise<void> {
  const { refund } = await world.service.admin<{ refund: { outRefundNo: string; status: string } }>(
    'POST',
    `/admin/orders/${encodeURIComponent(bought.orderId)}/refunds`,
    { body: { amount: bought.amount, reason }, headers: { 'idempotency-key': randomUUID() } },
  );
  world.report.done(
    `asked for a refund of ${yuan(bought.amount)}`,
    `POST /admin/orders/:id/refunds; out_refund_no ${refund.outRefundNo}, ${refund.status}`,
  );
}
