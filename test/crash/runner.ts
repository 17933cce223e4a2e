/**
 * Runs one scenario for one seed on one database: rounds of load under SIGKILL, then the
 * recovery every scenario shares, then the checks. Used by the CI suite (crash.test.ts, a few
 * seeds) and by `npm run crash` (many).
 */
import type { TestDatabase } from '../db/dialects.js';
import {
  CREDITED,
  type Facts,
  PAID_AT_WECHAT,
  readDatabase,
  violations,
  type WechatOrder,
} from './checks.js';
import { createOrders, payable, payBurst, sendRefunds } from './load.js';
import type { RunMemory, Scenario } from './scenarios.js';
import type { ServiceProcess } from './service-process.js';
import { readOutbox, undelivered, type WebhookFacts } from './webhook-checks.js';
import { createWorld, logIn, type World } from './world.js';

export interface RunReport {
  scenario: string;
  database: string;
  seed: number;
  kills: number;
  /** One line per round: when its kills landed. */
  plan: string[];
  acknowledged: number;
  created: number;
  paid: number;
  /**
   * Local orders no Idempotency-Key points to. A kill between saving an order and recording it on
   * its key used to leave one behind (and the retry made another); the key is now recorded in the
   * order's own commit, so the checks count any orphan as a violation. Kept in the report's line.
   */
  orphans: number;
  /** Webhook POSTs the receiver got (0 when the scenario has none). */
  webhooksReceived: number;
  violations: string[];
  /** What the killed instances printed last, when something went wrong. */
  output: string;
}

/**
 * How long the last restart may take to settle every payment and refund before the checks run:
 * a refund whose query timed out on a busy machine is asked again once its 30 s lease ends.
 */
const SETTLE_MS = 60_000;

export async function runSeed(
  scenario: Scenario,
  seed: number,
  database: TestDatabase,
  rounds = scenario.rounds,
): Promise<RunReport> {
  const db = await database.openMigrated();
  const world = await createWorld(db, seed, { webhooks: scenario.webhooks ?? false });
  const plan: string[] = [];
  try {
    const memory: RunMemory = { paid: [] };
    let next = world.prepare(scenario.instances);
    for (let r = 0; r < rounds; r++) {
      await world.goLive(next);
      if (r === 0) await logIn(world);
      next = world.prepare(scenario.instances, { recovery: r === rounds - 1 });
      plan.push(`round ${r + 1}: killed ${await scenario.round(world, r, memory)}`);
    }
    const facts = await recover(world, next);
    const found = violations(facts);
    return {
      scenario: scenario.name,
      database: database.name,
      seed,
      kills: world.kills,
      plan,
      acknowledged: world.ledger.acknowledged.size,
      created: world.ledger.created.length,
      paid: facts.wechat.filter((w) => PAID_AT_WECHAT.has(w.trade_state)).length,
      orphans: [...facts.orders.keys()].filter((id) => ![...facts.keyOrders.values()].includes(id)).length,
      webhooksReceived: facts.webhooks?.received.length ?? 0,
      violations: found,
      output: found.length > 0 ? world.output() : '',
    };
  } finally {
    await world.close();
    await db.close();
  }
}

/**
 * The last restart: the same database, the reconciler turned up. The client sends every key
 * again with the same body, the user pays every order still unpaid at WeChat, and the run waits
 * until every payment WeChat took has settled here (through its notification or the reconciler).
 */
async function recover(world: World, instances: Promise<ServiceProcess[]>): Promise<Facts> {
  await world.goLive(instances);
  const answers = await createOrders(world, [...world.ledger.keys.keys()]);
  const retried = new Map(
    answers.map((a) => {
      const answer = a.json as { order?: { id: string; outTradeNo: string }; code?: string } | null;
      const order = answer?.order;
      return [
        a.key,
        { status: a.status, orderId: order?.id, outTradeNo: order?.outTradeNo, code: answer?.code },
      ] as const;
    }),
  );
  const refundAnswers = await sendRefunds(world, [...world.ledger.refundKeys.keys()]);
  const retriedRefunds = new Map(
    refundAnswers.map((a) => {
      const refund = (a.json as { refund?: { outRefundNo: string } } | null)?.refund;
      return [a.key, { status: a.status, outRefundNo: refund?.outRefundNo }] as const;
    }),
  );
  const unpaid = new Set(
    (await wechatOrders(world)).filter((w) => w.trade_state === 'NOTPAY').map((w) => w.out_trade_no),
  );
  const toPay = new Map(
    payable(answers)
      .filter((o) => unpaid.has(o.outTradeNo))
      .map((o) => [o.outTradeNo, o]),
  );
  await payBurst(world, [...toPay.values()]);
  const wechat = await settled(world);
  const webhooks = await drained(world);
  await world.stopAll();
  return {
    ledger: world.ledger,
    retried,
    retriedRefunds,
    wechat,
    ...(await readDatabase(world.db.db)),
    ...(webhooks ? { webhooks } : {}),
  };
}

/** How long the deliverer has, after settling, to bring every payment's event to the receiver. */
const DRAIN_MS = 20_000;

/** With a receiver: polls until it has every paid order's payment.succeeded (or DRAIN_MS passed). */
async function drained(world: World): Promise<WebhookFacts | undefined> {
  const receiver = world.webhooks;
  if (!receiver) return undefined;
  const deadline = Date.now() + DRAIN_MS;
  for (;;) {
    const facts = { received: receiver.received, outbox: await readOutbox(world.db.db) };
    const orders = await world.db.db.selectFrom('orders').select(['id', 'status']).execute();
    if (undelivered(orders, facts).length === 0 || Date.now() > deadline)
      return { received: [...receiver.received], outbox: facts.outbox };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function wechatOrders(world: World): Promise<WechatOrder[]> {
  return ((await world.sim('/sim/orders')).json as { orders: WechatOrder[] }).orders;
}

/** Polls until no notification is in flight and every order paid at WeChat is PAID here. */
async function settled(world: World): Promise<WechatOrder[]> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const wechat = await wechatOrders(world);
    const attempts = ((await world.sim('/sim/notifications')).json as { attempts: { status: string }[] })
      .attempts;
    const { byOutTradeNo, refunds } = await readDatabase(world.db.db);
    const pending = wechat.filter(
      (w) =>
        PAID_AT_WECHAT.has(w.trade_state) && !CREDITED.has(byOutTradeNo.get(w.out_trade_no)?.status ?? ''),
    );
    const inFlight = attempts.some(
      (a) => a.status !== 'delivered' && a.status !== 'failed' && a.status !== 'dropped',
    );
    const refunding = refunds.some((r) => r.status === 'PROCESSING');
    if ((pending.length === 0 && !inFlight && !refunding) || Date.now() > deadline) return wechat;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
