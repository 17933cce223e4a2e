/**
 * A random shop day, drawn from the run's seed: users log in, order (with Idempotency-Keys,
 * some double-tapped, some sent again later), pay, cancel, close, ask for a sync; the admin
 * refunds (some clicks doubled, some for more than is left); WeChat sends copies of
 * notifications; and meanwhile WeChat fails, the clock jumps, the reconcilers run, an instance
 * is SIGKILLed and PostgreSQL drops the run's connections. The day is a few waves of actions;
 * each wave's actions run at once, so they race as a real day's requests do.
 */
import { createOrders, newKeys, newRefundKey, postNotification, sendRefunds } from '../crash/load.js';
import { CREDENTIALS } from '../service/harness.js';
import { armCallFault, armLoginFault, notificationFault } from './faults.js';
import type { Shop, ShopUser } from './shop.js';

export interface KnownOrder {
  id: string;
  outTradeNo: string;
  amount: number;
  prepayId: string;
  owner: ShopUser;
  transactionId?: string;
}

/** What the day learned, for later waves and for the settling phase. */
export interface DayState {
  users: ShopUser[];
  orders: KnownOrder[];
  /** The user each order Idempotency-Key belongs to: a retry must come from the same user. */
  keyOwner: Map<string, ShopUser>;
}

type Action =
  | 'login'
  | 'order'
  | 'pay'
  | 'cancel'
  | 'close'
  | 'sync'
  | 'refund'
  | 'duplicate'
  | 'fault'
  | 'jump'
  | 'reconcile'
  | 'kill'
  | 'connections';

/** How often each action is drawn; kills only where the run has processes, connections on PostgreSQL. */
const WEIGHTS: Record<Action, number> = {
  login: 1,
  order: 6,
  pay: 6,
  cancel: 1,
  close: 1,
  sync: 1,
  refund: 4,
  duplicate: 2,
  fault: 4,
  jump: 2,
  reconcile: 2,
  kill: 1,
  connections: 1,
};

/** Clock jumps, in seconds: a moment, past a notification retry, past a claim, past expiry. */
const JUMPS = [2, 16, 61, 300, 1900];

export async function playDay(shop: Shop, waves: number): Promise<DayState> {
  const day: DayState = { users: [], orders: [], keyOwner: new Map() };
  await Promise.all([logIn(shop, day), logIn(shop, day)]);
  const allowed = (Object.keys(WEIGHTS) as Action[]).filter(
    (a) =>
      (a !== 'kill' || shop.mode === 'processes') && (a !== 'connections' || shop.db.dialect === 'postgres'),
  );
  const bag = allowed.flatMap((a) => Array.from({ length: WEIGHTS[a] }, () => a));
  for (let w = 0; w < waves; w++) {
    const actions = Array.from({ length: shop.rng.int(2, 6) }, () => shop.rng.pick(bag));
    // A run on child processes is there to be killed: at least once, in its last wave if no sooner.
    if (w === waves - 1 && shop.mode === 'processes' && shop.injected.kills === 0) actions.push('kill');
    // Draw every choice of the wave before any request goes out: the plan is the seed's alone.
    const plays = actions.map((a, i) => play(shop, day, a, `w${w}a${i}`));
    await Promise.all(plays.map((p) => p()));
  }
  return day;
}

/** Draws an action's choices now; the returned function sends its requests. */
function play(shop: Shop, day: DayState, action: Action, tag: string): () => Promise<unknown> {
  const { rng } = shop;
  const someone = () => rng.pick(day.users);
  const unpaid = day.orders.filter((o) => o.transactionId === undefined);
  const paid = day.orders.filter((o) => o.transactionId !== undefined);
  const lag = rng.int(0, 40);
  const later = (f: () => Promise<unknown>) => async () => {
    await new Promise((resolve) => setTimeout(resolve, lag));
    return f();
  };
  switch (action) {
    case 'login':
      return () => logIn(shop, day);
    case 'order': {
      const user = someone();
      const earlier = [...day.keyOwner].filter(([, u]) => u === user).map(([k]) => k);
      const keys = newKeys(shop, tag, rng.int(1, 3));
      for (const k of keys) day.keyOwner.set(k, user);
      const again = earlier.length > 0 && rng.chance(0.3) ? [rng.pick(earlier)] : [];
      const taps = keys.filter(() => rng.chance(0.2));
      return () => order(shop.as(user), day, [...keys, ...taps, ...again], user);
    }
    case 'pay': {
      if (unpaid.length === 0) return async () => {};
      const target = rng.pick(unpaid);
      const headers = notificationFault(shop);
      return () => pay(shop, target, 'SUCCESS', headers);
    }
    case 'cancel': {
      if (unpaid.length === 0) return async () => {};
      const target = rng.pick(unpaid);
      return () => pay(shop, target, 'CANCEL', {});
    }
    case 'close':
    case 'sync': {
      if (day.orders.length === 0) return async () => {};
      const target = rng.pick(day.orders);
      return later(() => shop.as(target.owner).api('POST', `/api/orders/${target.id}/${action}`));
    }
    case 'refund': {
      if (paid.length === 0) return async () => {};
      const target = rng.pick(paid);
      const amount = rng.chance(0.25) ? target.amount : rng.int(1, target.amount);
      const key = newRefundKey(shop, tag, target.id, amount);
      return later(() => sendRefunds(shop, rng.chance(0.2) ? [key, key] : [key]));
    }
    case 'duplicate': {
      if (paid.length === 0) return async () => {};
      const target = rng.pick(paid);
      const copies = rng.int(1, 3);
      shop.count('signed copy');
      return later(() =>
        Promise.all(
          Array.from({ length: copies }, () =>
            postNotification(shop.as(target.owner), {
              outTradeNo: target.outTradeNo,
              amount: target.amount,
              transactionId: target.transactionId as string,
            }),
          ),
        ),
      );
    }
    case 'fault':
      return () => armCallFault(shop);
    case 'jump': {
      const seconds = rng.pick(JUMPS);
      return later(() => shop.jump(seconds * 1000));
    }
    case 'reconcile':
      return later(() => shop.reconcile());
    case 'kill':
      return later(() => shop.killOne());
    case 'connections':
      return later(() => shop.killConnections());
    default: {
      const unreachable: never = action;
      throw new Error(`unknown action ${String(unreachable)}`);
    }
  }
}

/** wx.login, then POST /api/login; a login that meets WeChat's −1 tries again with a new code. */
async function logIn(shop: Shop, day: DayState): Promise<void> {
  if (shop.rng.chance(0.2)) await armLoginFault(shop);
  day.users.push(await signIn(shop));
}

/**
 * Logs a user in (the given openid again, or a new user), trying while the service restarts
 * after a kill (the relay answers 502) or WeChat answers −1.
 */
export async function signIn(shop: Shop, openid?: string): Promise<ShopUser> {
  let last = '';
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; attempt === 0 || Date.now() < deadline; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    const { json } = await shop.sim('/sim/login', { appid: CREDENTIALS.appid, ...(openid && { openid }) });
    const login = json as { code: string; openid: string };
    const res = await shop.api('POST', '/api/login', { code: login.code });
    last = `${res.status} ${JSON.stringify(res.json)}`;
    if (res.status === 200) return { token: (res.json as { token: string }).token, openid: login.openid };
  }
  throw new Error(`could not log in for 30 s: ${last}`);
}

async function order(shop: Shop, day: DayState, keys: string[], owner: ShopUser): Promise<void> {
  const answers = await createOrders(shop, keys);
  for (const a of answers) {
    if (a.status !== 201) continue;
    const { order: o, payment } = a.json as {
      order: { id: string; outTradeNo: string; amount: number };
      payment: { package: string };
    };
    if (day.orders.some((k) => k.id === o.id)) continue;
    day.orders.push({
      id: o.id,
      outTradeNo: o.outTradeNo,
      amount: o.amount,
      prepayId: payment.package.replace(/^prepay_id=/, ''),
      owner,
    });
  }
}

/** wx.requestPayment at the simulator, as the order's owner. */
async function pay(
  shop: Shop,
  target: KnownOrder,
  result: 'SUCCESS' | 'CANCEL',
  headers: Record<string, string>,
) {
  const res = await shop.sim(
    '/sim/pay',
    { prepay_id: target.prepayId, result, openid: target.owner.openid },
    headers,
  );
  const transactionId = (res.json as { transaction_id?: string } | null)?.transaction_id;
  if (res.status === 200 && transactionId) target.transactionId = transactionId;
}
