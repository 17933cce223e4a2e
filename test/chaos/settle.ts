/**
 * After the day: WeChat behaves again, the clients send every Idempotency-Key once more (orders
 * and refunds, with the same bodies), and time runs on for a day in steps, each followed by the
 * reconcilers' turn, until every payment WeChat took is credited here, every refund has settled
 * and WeChat has no notification left to send. Then the facts are read for the checks.
 */
import { CREDITED, type Facts, PAID_AT_WECHAT, readDatabase, type WechatOrder } from '../crash/checks.js';
import { createOrders, sendRefunds } from '../crash/load.js';
import { liftFaults } from './faults.js';
import type { Shop, ShopUser } from './shop.js';
import { type DayState, signIn } from './shop-day.js';

/** Time given to the settling, step by step: past claims, retries, refund delays and expiry. */
const STEPS_S = [61, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 6 * 3600, 9 * 3600];

export async function settle(shop: Shop, day: DayState): Promise<Facts> {
  await liftFaults(shop);
  // Past every Idempotency-Key claim a failed or killed request left (60 s).
  await shop.jump(61_000);
  // Sessions may have expired during the day's clock jumps: each user logs in again (the same
  // openid is the same user, so its keys are still its own).
  for (const user of day.users) user.token = (await signIn(shop, user.openid)).token;
  const byOwner = new Map<ShopUser, string[]>();
  for (const [key, owner] of day.keyOwner) byOwner.set(owner, [...(byOwner.get(owner) ?? []), key]);
  const retried = new Map<string, { status: number; orderId?: string; outTradeNo?: string; code?: string }>();
  const retriedRefunds = new Map<string, { status: number; outRefundNo?: string }>();
  let orderKeys = [...byOwner];
  let refundKeys = [...shop.ledger.refundKeys.keys()];
  // A client retries what did not get a final answer (a 5xx, or 409 while a claim is in
  // flight), a minute later each time, as Retry-After tells it: a few rounds at most (on a
  // loaded machine a WeChat call can time out several times in a row).
  for (let round = 0; round < 8 && (orderKeys.length > 0 || refundKeys.length > 0); round++) {
    if (round > 0) {
      // The reconcilers run all the time in production: between two retries they close what
      // expired unpaid, and the retry of such a key is then told so (409 ORDER_NOT_PENDING).
      await shop.jump(61_000);
      await shop.reconcile();
      if (shop.mode === 'processes') await waitForCycles();
    }
    const answers = (
      await Promise.all(orderKeys.map(([owner, keys]) => createOrders(shop.as(owner), keys)))
    ).flat();
    for (const a of answers) {
      const answer = a.json as { order?: { id: string; outTradeNo: string }; code?: string } | null;
      const order = answer?.order;
      retried.set(a.key, {
        status: a.status,
        orderId: order?.id,
        outTradeNo: order?.outTradeNo,
        code: answer?.code,
      });
    }
    const refundAnswers = await sendRefunds(shop, refundKeys);
    for (const a of refundAnswers) {
      const refund = (a.json as { refund?: { outRefundNo: string } } | null)?.refund;
      retriedRefunds.set(a.key, { status: a.status, outRefundNo: refund?.outRefundNo });
    }
    const again = (status: number, code?: string) =>
      status >= 500 || (status === 409 && code === 'IDEMPOTENCY_KEY_IN_FLIGHT');
    orderKeys = orderKeys
      .map(
        ([owner, keys]) =>
          [
            owner,
            keys.filter((k) => {
              const r = retried.get(k);
              return r !== undefined && again(r.status, r.code);
            }),
          ] as [ShopUser, string[]],
      )
      .filter(([, keys]) => keys.length > 0);
    refundKeys = refundAnswers
      .filter((a) => again(a.status, (a.json as { code?: string } | null)?.code))
      .map((a) => a.key);
  }
  let wechat: WechatOrder[] = [];
  for (const step of STEPS_S) {
    await shop.jump(step * 1000);
    await shop.reconcile();
    if (shop.mode === 'processes') await waitForCycles();
    wechat = await wechatOrders(shop);
    if (await isSettled(shop, wechat)) break;
  }
  return { ledger: shop.ledger, retried, retriedRefunds, wechat, ...(await readDatabase(shop.db.db)) };
}

/** Child instances run their reconcilers once a second, on their own. */
const waitForCycles = () => new Promise((resolve) => setTimeout(resolve, 1200));

async function wechatOrders(shop: Shop): Promise<WechatOrder[]> {
  return ((await shop.sim('/sim/orders')).json as { orders: WechatOrder[] }).orders;
}

async function isSettled(shop: Shop, wechat: WechatOrder[]): Promise<boolean> {
  // A light read each step; the full facts (and the audit) are read once, at the end.
  const db = shop.db.db;
  const orders = await db.selectFrom('orders').select(['out_trade_no', 'status']).execute();
  const status = new Map(orders.map((o) => [o.out_trade_no, o.status]));
  const refunding = await db.selectFrom('refunds').select('id').where('status', '=', 'PROCESSING').execute();
  const attempts = ((await shop.sim('/sim/notifications')).json as { attempts: { status: string }[] })
    .attempts;
  const uncredited = wechat.some(
    (w) => PAID_AT_WECHAT.has(w.trade_state) && !CREDITED.has(status.get(w.out_trade_no) ?? ''),
  );
  const waiting = attempts.some(
    (a) => a.status === 'scheduled' || a.status === 'queued' || a.status === 'sending',
  );
  return !uncredited && !waiting && refunding.length === 0;
}
