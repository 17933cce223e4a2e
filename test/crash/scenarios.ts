/**
 * The crash scenarios. A scenario is only its load under kills, one round at a time; the runner
 * does the rest the same way for all of them (restart, retry every key, order and refund, pay
 * what is unpaid, let the reconcilers run, check). Every scenario's kills also land between a
 * state change and its webhook's delivery: the audit's outbox check (part of the invariants in
 * checks.ts) proves each committed change kept its event, and the webhook delivery scenario adds
 * a receiver that proves each event also reached the shop.
 */
import { armKill, describeMoment, drawMoment, type KillMoment } from './kill-plan.js';
import {
  createOrders,
  newKeys,
  newRefundKey,
  type PaidOrder,
  type PayableOrder,
  payable,
  payBurst,
  replayNotifications,
  sendRefunds,
} from './load.js';
import type { World } from './world.js';

export interface Scenario {
  name: string;
  /** Service instances per round, all on one database. */
  instances: number;
  /** Two instances need a database several processes can write at once. */
  postgresOnly?: boolean;
  /** Instances run with WEBHOOK_URL at the world's receiver, and the webhook checks apply. */
  webhooks?: boolean;
  /** Kill rounds before the final restart. */
  rounds: number;
  /** The seed CI runs (one round): chosen so the CI set kills at each kind of moment. */
  ciSeed: number;
  /** One round: start instances, drive load, kill them; returns what happened, for the report. */
  round(world: World, round: number, memory: RunMemory): Promise<string>;
}

/** What a scenario carries from one round to the next. */
export interface RunMemory {
  paid: PaidOrder[];
}

/** Keys sent so far that never got a 201: the client retries them. */
function unanswered(world: World): string[] {
  const answered = new Set(world.ledger.created.map((c) => c.key));
  return [...world.ledger.keys.keys()].filter((k) => !answered.has(k));
}

/** Arms one kill per live instance, runs the load, then kills whatever is still alive. */
async function underKills(world: World, moments: KillMoment[], load: () => Promise<unknown>) {
  const kills = world.live.map((instance, i) => armKill(world, instance, moments[i] as KillMoment));
  await load();
  const fired = await Promise.all(
    kills.map(async (k) => {
      k.disarm();
      return k.fired;
    }),
  );
  await Promise.all(world.live.slice().map((p) => world.kill(p)));
  return moments
    .map((m, i) => `${describeMoment(m)}${fired[i] ? '' : ' (load ended first: killed idle)'}`)
    .join(' + ');
}

export const notificationBurst: Scenario = {
  name: 'notification burst',
  instances: 1,
  rounds: 2,
  ciSeed: 2, // right after the 7th SUCCESS reply
  async round(world, r, memory) {
    const orders = payable(await createOrders(world, newKeys(world, `n${r}`, 20)));
    const moment = drawMoment(world.rng, ['acknowledged', 'acknowledged', 'ms'], orders.length);
    const previous = memory.paid.slice();
    return underKills(world, [moment], async () => {
      const [paid] = await Promise.all([payBurst(world, orders), replayNotifications(world, previous)]);
      memory.paid.push(...paid);
    });
  },
};

/**
 * The notification burst with a webhook receiver: each payment's commit writes its
 * payment.succeeded event, the deliverer POSTs it at once, and the kill waits for a SUCCESS, for
 * the receiver to be mid-way through a POST (it arrived, the 200 is not sent), or a moment.
 */
export const webhookDelivery: Scenario = {
  name: 'webhook delivery',
  instances: 1,
  webhooks: true,
  rounds: 2,
  ciSeed: 2, // as the receiver gets the 7th POST, before its 200
  async round(world, r, memory) {
    const orders = payable(await createOrders(world, newKeys(world, `w${r}`, 20)));
    const moment = drawMoment(world.rng, ['acknowledged', 'delivered', 'delivered', 'ms'], orders.length);
    const previous = memory.paid.slice();
    return underKills(world, [moment], async () => {
      const [paid] = await Promise.all([payBurst(world, orders), replayNotifications(world, previous)]);
      memory.paid.push(...paid);
      // The deliveries trail the commits: give them their moment under the armed kill too.
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
  },
};

export const orderCreation: Scenario = {
  name: 'order creation',
  instances: 1,
  rounds: 2,
  ciSeed: 3, // while the 15th unifiedorder is at WeChat
  async round(world, r) {
    const retry = unanswered(world);
    const fresh = newKeys(world, `c${r}`, 24);
    const doubleTaps = fresh.filter(() => world.rng.chance(0.15));
    const moment = drawMoment(world.rng, ['created', 'unifiedorder', 'ms'], fresh.length);
    return underKills(world, [moment], () => createOrders(world, [...fresh, ...retry, ...doubleTaps]));
  },
};

export const twoInstances: Scenario = {
  name: 'two instances',
  instances: 2,
  postgresOnly: true,
  rounds: 2,
  ciSeed: 1,
  async round(world, r, memory) {
    const orders = payable(await createOrders(world, newKeys(world, `p${r}`, 12)));
    const retry = unanswered(world);
    const fresh = newKeys(world, `t${r}`, 12);
    const kinds = ['acknowledged', 'created', 'unifiedorder', 'ms'] as const;
    const moments = world.live.map(() => drawMoment(world.rng, kinds, 12));
    const previous = memory.paid.slice();
    return underKills(world, moments, async () => {
      const [paid] = await Promise.all([
        payBurst(world, orders),
        createOrders(world, [...fresh, ...retry]),
        replayNotifications(world, previous),
      ]);
      memory.paid.push(...paid);
    });
  },
};

/**
 * Refunds under kills: orders are paid first (no kill armed), then refunded in part or in full
 * through the admin route (some clicks doubled, earlier unanswered keys sent again) while the
 * kill waits for a 201, a refund call at WeChat, a refund notification, or a moment.
 */
export const refunds: Scenario = {
  name: 'refunds',
  instances: 1,
  rounds: 2,
  ciSeed: 1,
  async round(world, r, memory) {
    const paid = await payAndWait(world, payable(await createOrders(world, newKeys(world, `r${r}`, 8))));
    memory.paid.push(...paid);
    const orderIds = new Map(world.ledger.created.map((c) => [c.outTradeNo, c.orderId]));
    const fresh = paid.flatMap((order) => {
      const orderId = orderIds.get(order.outTradeNo) as string;
      const first = world.rng.chance(0.3) ? order.amount : world.rng.int(1, order.amount);
      const keys = [newRefundKey(world, `f${r}`, orderId, first)];
      if (first < order.amount && world.rng.chance(0.5))
        keys.push(newRefundKey(world, `g${r}`, orderId, world.rng.int(1, order.amount)));
      return keys;
    });
    const answered = new Set(world.ledger.refunded.map((a) => a.key));
    const retry = [...world.ledger.refundKeys.keys()].filter((k) => !answered.has(k) && !fresh.includes(k));
    const doubleClicks = fresh.filter(() => world.rng.chance(0.2));
    const kinds = ['refunded', 'refund', 'refund', 'refundNotified', 'ms'] as const;
    const moment = drawMoment(world.rng, kinds, fresh.length);
    return underKills(world, [moment], async () => {
      await sendRefunds(world, [...fresh, ...retry, ...doubleClicks]);
      // Give the refund notifications of the accepted refunds their moment too.
      await new Promise((resolve) => setTimeout(resolve, 150));
    });
  },
};

/** Pays the orders and waits (a few seconds at most) until the service acknowledged each. */
async function payAndWait(world: World, orders: PayableOrder[]): Promise<PaidOrder[]> {
  const paid = await payBurst(world, orders);
  const deadline = Date.now() + 5000;
  while (paid.some((p) => !world.ledger.acknowledged.has(p.outTradeNo)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return paid.filter((p) => world.ledger.acknowledged.has(p.outTradeNo));
}

export const SCENARIOS: readonly Scenario[] = [
  notificationBurst,
  webhookDelivery,
  orderCreation,
  twoInstances,
  refunds,
];
