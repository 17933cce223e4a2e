/**
 * The scenarios. Each gets a fresh database and a fresh service process, measures
 * under load, stops the service (reading its peak RSS first) and checks the database afterwards.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { migrateToLatest } from '../src/db/migrations.js';
import { openDatabase } from '../src/db/open.js';
import { notifyReply } from '../src/wechat/v2/notify.js';
import type { AnchorName, BenchOptions, PlanDb, ScenarioName } from './args.js';
import { type BenchDatabase, createBenchDatabase, OUT_DIR } from './databases.js';
import { type LoadResult, runLoad } from './load.js';
import { loginCodes, loginUsers, type PreparedOrder, prepareOrders } from './prepare.js';
import {
  type ServerProcess,
  startAnchor,
  startNotifyWithoutDatabase,
  startService,
  startSimulator,
} from './processes.js';
import { explainCaptured, type PlannedStatement } from './query-plans.js';
import { seedOrders as seedDatabase } from './seed.js';
import { checkCredits } from './verify.js';
import { type WebhookDeliveryStats, webhookDelivery } from './webhooks.js';

export interface Measurement {
  scenario: ScenarioName;
  db: PlanDb;
  durability: string;
  load: LoadResult;
  peakRssBytes: number | undefined;
  /** What was checked in the database afterwards, and whether it held. */
  check: { ok: boolean; summary: string };
  /** Orders already stored before the run (the growth scenario), 0 for an empty database. */
  seededOrders: number;
  /** Growth on SQLite: the plan of each statement the service ran, against the seeded database. */
  queryPlans?: PlannedStatement[];
  /** The webhooks scenario: deliveries to a receiver answering 2xx during the notification load. */
  webhooks?: WebhookDeliveryStats;
}

export interface ScenarioContext {
  options: BenchOptions;
  db: PlanDb;
  /** The baseline's req/s measured just before: sizes the prepared data so it cannot run out. */
  baselineRps: number;
  /** Orders to store before the run (growth); 0 or absent: an empty database. */
  seedOrders?: number;
  /** Where the service records the SQL it prepares (growth on SQLite), for the query plans. */
  sqlCapture?: string;
  log?: (line: string) => void;
}

const SUCCESS_REPLY = notifyReply(true);
/** What each API version's notification route answers when it has recorded a payment. */
const ACCEPTED = {
  v2: { status: 200, body: SUCCESS_REPLY, path: '/payment/wxnotify' },
  v3: { status: 204, body: '', path: '/payment/wxnotify/v3' },
} as const;
/** The service is never pointed at WeChat in scenarios that do not call it. */
const NO_SIMULATOR = 'http://127.0.0.1:9';
/** Prepared notifications at most: far above what the service answers in a run, so never short. */
const MAX_NOTIFICATIONS = { quick: 20_000, full: 150_000 };
/** v3 notifications are signed with their timestamp while prepared: few enough to stay in the 5 minutes. */
const MAX_V3_NOTIFICATIONS = { quick: 10_000, full: 30_000 };
/** Login codes at most (each is fetched from the simulator beforehand). */
const MAX_LOGIN_CODES = { quick: 10_000, full: 40_000 };
const DUPLICATES = 10;
const USERS = 50;

export async function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<Measurement> {
  if (name === 'notify-nodb' || ctx.db === 'none') {
    return {
      scenario: name,
      db: 'none',
      durability: 'none (no database)',
      seededOrders: 0,
      ...(await notifyNoDatabase(ctx)),
    };
  }
  const database = await createBenchDatabase(ctx.db, ctx.options.postgresUrl);
  try {
    const durability = await database.durability();
    const seedOrders = ctx.seedOrders ?? 0;
    if (seedOrders > 0) {
      await (await database.openForSetup()).close();
      const seeded = await seedDatabase(ctx.db, database.url, seedOrders);
      ctx.log?.(
        `  seeded ${seeded.orders} orders and ${seeded.events} events in ${seeded.seconds.toFixed(1)} s`,
      );
      if (ctx.db === 'sqlite') ctx = { ...ctx, sqlCapture: join(OUT_DIR, `sql-${process.pid}-${name}.json`) };
    }
    const run = {
      notify,
      'notify-v3': notifyV3,
      duplicates,
      orders,
      login,
      'anchor-koa': anchorKoa,
      'anchor-fastify': anchorFastify,
      webhooks: (c: ScenarioContext, d: BenchDatabase) =>
        webhookDelivery(c, d, (env, afterLoad) =>
          notifications(c, d, 1, 'v2', undefined, { env, afterLoad }),
        ),
    }[name as Exclude<ScenarioName, 'notify-nodb'>];
    const measured = await run(ctx, database);
    const queryPlans = ctx.sqlCapture ? explainCaptured(sqliteFile(database), ctx.sqlCapture) : undefined;
    if (ctx.sqlCapture) rmSync(ctx.sqlCapture, { force: true });
    return {
      scenario: name,
      db: ctx.db,
      durability,
      seededOrders: seedOrders,
      ...(queryPlans ? { queryPlans } : {}),
      ...measured,
    };
  } finally {
    await database.drop();
  }
}

type Measured = Omit<Measurement, 'scenario' | 'db' | 'durability' | 'seededOrders' | 'queryPlans'>;

function sqliteFile(database: BenchDatabase): string {
  return database.url.replace(/^sqlite:/, '');
}

function profileDir(ctx: ScenarioContext): string | undefined {
  return ctx.options.profile ? join(OUT_DIR, 'profiles') : undefined;
}

/** Enough for the whole run even if the service kept up with the baseline, plus a margin. */
function sized(ctx: ScenarioContext, share: number, caps: { quick: number; full: number }): number {
  const cap = ctx.options.quick ? caps.quick : caps.full;
  return Math.max(200, Math.ceil(Math.min(cap, ctx.baselineRps * ctx.options.durationS * share * 1.2)));
}

/** Stops the service and returns its peak RSS, read while it is still alive. */
async function finish(service: ServerProcess, ...others: (ServerProcess | undefined)[]) {
  const peakRssBytes = service.peakRss();
  await service.stop();
  for (const other of others) await other?.stop();
  return peakRssBytes;
}

/** What the webhooks scenario adds to a notification run: the service's env, and a wait before it stops. */
export interface NotificationHooks {
  env?: Record<string, string>;
  afterLoad?: () => Promise<void>;
}

/**
 * Scenario 1: distinct orders, each notified once. Scenario 4: each notified DUPLICATES times at
 * once. notify-v3: scenario 1 with API v3 notifications (RSA verify and AES-GCM decrypt each).
 */
async function notifications(
  ctx: ScenarioContext,
  database: BenchDatabase,
  copies: number,
  version: 'v2' | 'v3' = 'v2',
  anchor?: AnchorName,
  hooks: NotificationHooks = {},
): Promise<Measured> {
  const setup = await database.openForSetup();
  const caps = version === 'v3' ? MAX_V3_NOTIFICATIONS : MAX_NOTIFICATIONS;
  const accepted = ACCEPTED[version];
  let orders: PreparedOrder[];
  try {
    orders = await prepareOrders(
      setup,
      sized(ctx, 1 / copies, { quick: caps.quick / copies, full: caps.full / copies }),
      version,
      anchor === 'anchor-koa' ? 'MD5' : 'HMAC-SHA256',
    );
  } finally {
    await setup.close();
  }
  const service = anchor
    ? await startAnchor(anchor, sqliteFile(database), profileDir(ctx))
    : await startService(database.url, NO_SIMULATOR, profileDir(ctx), version, {
        sqlCapture: ctx.sqlCapture,
        ...(hooks.env && { env: hooks.env }),
      });
  const acknowledged = new Set<number>();
  let sent = 0;
  let load: LoadResult;
  let peakRssBytes: number | undefined;
  try {
    load = await runLoad({
      url: service.url,
      server: service,
      connections: ctx.options.connections,
      durationS: ctx.options.durationS,
      expectBody: accepted.body,
      // Copies of one notification are adjacent, so they are in flight together on different connections.
      next(context) {
        const index = Math.floor(sent / copies);
        if (index >= orders.length) return undefined;
        sent++;
        context.index = index;
        const { headers, body } = orders[index]!;
        return { path: accepted.path, method: 'POST', headers, body };
      },
      onResponse(status, body, context) {
        if (status === accepted.status && body === accepted.body) acknowledged.add(context.index as number);
      },
    });
    await hooks.afterLoad?.();
  } finally {
    peakRssBytes = await finish(service);
  }
  const check = await database.openForSetup();
  try {
    return { load, peakRssBytes, check: await checkCredits(check, orders, acknowledged) };
  } finally {
    await check.close();
  }
}

/** The notification route without storage: bodies signed the same way, nothing written. */
async function notifyNoDatabase(ctx: ScenarioContext): Promise<Measured> {
  const scratch = await openDatabase('sqlite::memory:');
  let bodies: Buffer[];
  try {
    await migrateToLatest(scratch);
    bodies = (await prepareOrders(scratch, sized(ctx, 1, MAX_NOTIFICATIONS))).map((o) => o.body);
  } finally {
    await scratch.close();
  }
  const server = await startNotifyWithoutDatabase(profileDir(ctx));
  let sent = 0;
  let load: LoadResult;
  let peakRssBytes: number | undefined;
  try {
    load = await runLoad({
      url: server.url,
      server,
      connections: ctx.options.connections,
      durationS: ctx.options.durationS,
      expectBody: SUCCESS_REPLY,
      next: () =>
        sent < bodies.length
          ? {
              path: '/payment/wxnotify',
              method: 'POST',
              headers: { 'content-type': 'text/xml' },
              body: bodies[sent++],
            }
          : undefined,
    });
  } finally {
    peakRssBytes = await finish(server);
  }
  return {
    load,
    peakRssBytes,
    check: { ok: load.failures === 0, summary: `${sent} verified, nothing stored` },
  };
}

function notify(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  return notifications(ctx, database, 1);
}

function notifyV3(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  return notifications(ctx, database, 1, 'v3');
}

/** The tutorial's stack: Koa, xml-js, MD5, a durable commit per notification. */
function anchorKoa(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  return notifications(ctx, database, 1, 'v2', 'anchor-koa');
}

/** A plain Fastify handler with fast-xml-parser, HMAC-SHA256 and a durable commit per notification. */
function anchorFastify(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  return notifications(ctx, database, 1, 'v2', 'anchor-fastify');
}

function duplicates(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  return notifications(ctx, database, DUPLICATES);
}

/** Scenario 2: logged-in users create orders; each goes through the simulator's unifiedorder. */
async function orders(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  await (await database.openForSetup()).close();
  const simulator = await startSimulator();
  const service = await startService(database.url, simulator.url, profileDir(ctx), 'v2', {
    sqlCapture: ctx.sqlCapture,
  }).catch(async (err) => {
    await simulator.stop();
    throw err;
  });
  let created = 0;
  // Orders stored before the run (growth) are not counted: only those the run created.
  const startedAt = Date.now();
  let load: LoadResult;
  let peakRssBytes: number | undefined;
  try {
    const tokens = await loginUsers(service.url, simulator.url, USERS);
    let turn = 0;
    load = await runLoad({
      url: service.url,
      server: service,
      connections: ctx.options.connections,
      durationS: ctx.options.durationS,
      next: () => ({
        path: '/api/orders',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens[turn++ % tokens.length]}`,
          'idempotency-key': randomUUID(),
        },
        body: '{"sku":"coffee-americano","quantity":1}',
      }),
      onResponse(status) {
        if (status === 201) created++;
      },
    });
  } finally {
    peakRssBytes = await finish(service, simulator);
  }
  const check = await database.openForSetup();
  try {
    const row = await check.db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('prepay_id', 'is not', null)
      .where('created_at', '>=', startedAt)
      .executeTakeFirstOrThrow();
    const stored = Number(row.n);
    // Requests in flight when the load stopped may have completed unseen: at most one per connection.
    const ok = stored >= created && stored - created <= ctx.options.connections;
    return {
      load,
      peakRssBytes,
      check: { ok, summary: `${created} created (201), ${stored} with a prepay_id` },
    };
  } finally {
    await check.close();
  }
}

/** Scenario 3: wx.login codes exchanged through the simulator's code2Session. */
async function login(ctx: ScenarioContext, database: BenchDatabase): Promise<Measured> {
  await (await database.openForSetup()).close();
  const simulator = await startSimulator();
  const service = await startService(database.url, simulator.url, profileDir(ctx)).catch(async (err) => {
    await simulator.stop();
    throw err;
  });
  let ok = 0;
  let load: LoadResult;
  let peakRssBytes: number | undefined;
  try {
    const codes = await loginCodes(simulator.url, sized(ctx, 0.25, MAX_LOGIN_CODES));
    let next = 0;
    load = await runLoad({
      url: service.url,
      server: service,
      connections: ctx.options.connections,
      durationS: ctx.options.durationS,
      next: () =>
        next < codes.length
          ? {
              path: '/api/login',
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ code: codes[next++] }),
            }
          : undefined,
      onResponse(status) {
        if (status === 200) ok++;
      },
    });
  } finally {
    peakRssBytes = await finish(service, simulator);
  }
  return { load, peakRssBytes, check: { ok: load.failures === 0, summary: `${ok} logins answered 200` } };
}
