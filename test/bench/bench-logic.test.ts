/**
 * The benchmark's own logic, without load: option parsing, the target verdicts, and the
 * database check that must catch a lost or double credit. (The load runs themselves are not
 * tests: they take minutes and their numbers depend on the machine.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBenchArgs, planOf, reportPaths } from '../../bench/args.js';
import type { LoadResult } from '../../bench/load.js';
import { type PreparedOrder, prepareOrders } from '../../bench/prepare.js';
import { shortenPlaceholders } from '../../bench/query-plans.js';
import { evaluateTargets, type Row } from '../../bench/report.js';
import { analyzeSoak, type SoakSample } from '../../bench/soak-analysis.js';
import { checkCredits } from '../../bench/verify.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { type DbHandle, openDatabase } from '../../src/db/open.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('bench options', () => {
  it('runs every scenario on both databases by default, shorter with --quick', () => {
    const full = parseBenchArgs([], {});
    const quick = parseBenchArgs(['--quick'], { BENCH_POSTGRES_URL: 'postgres://x@127.0.0.1/y' });
    expect(full).toMatchObject({
      ok: true,
      options: {
        scenarios: ['notify', 'notify-v3', 'notify-nodb', 'orders', 'login', 'duplicates', 'webhooks'],
        databases: ['sqlite', 'postgres'],
        connections: 50,
        durationS: 10,
        baselineDurationS: 5,
      },
    });
    expect(quick).toMatchObject({
      ok: true,
      options: { quick: true, durationS: 3, baselineDurationS: 2, postgresUrl: 'postgres://x@127.0.0.1/y' },
    });
  });

  it('takes scenarios repeated or comma-separated, and refuses unknown ones and other databases', () => {
    expect(
      parseBenchArgs(['--scenario', 'notify,login', '--scenario', 'orders', '--db', 'sqlite'], {}),
    ).toMatchObject({
      ok: true,
      options: { scenarios: ['notify', 'login', 'orders'], databases: ['sqlite'] },
    });
    expect(parseBenchArgs(['--scenario', 'checkout'], {})).toEqual({
      ok: false,
      problem: 'unknown scenario checkout',
    });
    expect(parseBenchArgs(['--db', 'mysql'], {})).toEqual({
      ok: false,
      problem: '--db must be sqlite or postgres (it is mysql)',
    });
  });
});

describe('bench plan', () => {
  const planFor = (argv: string[]) => {
    const parsed = parseBenchArgs(argv, {});
    if (!parsed.ok) throw new Error(parsed.problem);
    return planOf(parsed.options).map((m) => `${m.scenario}/${m.db}/${m.seedOrders}`);
  };

  it("--anchors alone runs weapp-pay's notification beside the two anchors on SQLite", () => {
    expect(planFor(['--anchors'])).toEqual([
      'notify/sqlite/0',
      'anchor-koa/sqlite/0',
      'anchor-fastify/sqlite/0',
    ]);
    expect(planFor(['--anchors', '--scenario', 'login'])).toEqual([
      'login/sqlite/0',
      'anchor-koa/sqlite/0',
      'anchor-fastify/sqlite/0',
    ]);
  });

  it('--growth measures notify and orders on an empty database and then on a seeded one', () => {
    expect(planFor(['--growth', '--db', 'sqlite'])).toEqual([
      'notify/sqlite/0',
      'notify/sqlite/1000000',
      'orders/sqlite/0',
      'orders/sqlite/1000000',
    ]);
    expect(planFor(['--growth-orders', '20000', '--scenario', 'notify,login', '--db', 'sqlite'])).toEqual([
      'notify/sqlite/0',
      'notify/sqlite/20000',
      'login/sqlite/0',
    ]);
    expect(parseBenchArgs(['--growth-orders', '0'], {})).toEqual({
      ok: false,
      problem: '--growth-orders must be a whole number ≥ 1',
    });
  });
});

describe('bench query plans', () => {
  it('counts a statement once whatever the size of its IN list or VALUES rows', () => {
    expect(shortenPlaceholders('select * from orders where id in (?, ?, ?)')).toBe(
      'select * from orders where id in (?, …)',
    );
    expect(shortenPlaceholders('insert into e (a, b) values (?, ?), (?, ?), (?, ?)')).toBe(
      'insert into e (a, b) values (?, …), …',
    );
  });
});

describe('bench report location', () => {
  it('writes to the git-ignored bench/out/ unless --save asks to update the committed record', () => {
    const plain = parseBenchArgs(['--quick'], {});
    const saved = parseBenchArgs(['--quick', '--save'], {});
    if (!plain.ok || !saved.ok) throw new Error('options should parse');
    expect(reportPaths(plain.options)).toEqual({
      json: 'bench/out/results.json',
      md: 'bench/out/results.md',
    });
    expect(reportPaths(saved.options)).toEqual({ json: 'bench/results.json', md: 'bench/results.md' });
    expect(readFileSync(join(REPO, '.gitignore'), 'utf8').split('\n')).toContain('bench/out/');
  });
});

describe('bench targets', () => {
  const load = (rps: number, p99: number): LoadResult => ({
    requests: rps * 10,
    durationS: 10,
    rps,
    p50: p99 / 2,
    p99,
    failures: 0,
    failureDetail: '',
    generatorCpuUsPerRequest: 50,
  });
  const row = (scenario: Row['scenario'], db: Row['db'], rps: number, p99: number, rssMb: number): Row => ({
    scenario,
    db,
    durability: '',
    load: load(rps, p99),
    baseline: load(10_000, 5),
    baselineRuns: [],
    peakRssBytes: rssMb * 1024 * 1024,
    check: { ok: true, summary: '' },
    seededOrders: 0,
  });

  it('meets each target exactly at its threshold and misses it just past', () => {
    const met = evaluateTargets(
      [row('notify', 'sqlite', 2500, 25, 200), row('orders', 'postgres', 500, 900, 150)],
      50,
    );
    expect(met.map((t) => [t.measure, t.met])).toEqual([
      ['v2 notification, SQLite, durable', true],
      ['order creation, PostgreSQL', true],
      ['v2 notification p99, sqlite, 50 connections', true],
      ['Server peak RSS, any scenario', true],
    ]);
    const missed = evaluateTargets(
      [row('notify', 'sqlite', 2499, 25.5, 201), row('orders', 'postgres', 499, 900, 150)],
      50,
    );
    expect(missed.map((t) => t.met)).toEqual([false, false, false, false]);
  });

  it('judges growth against the empty-database twin of the same run, 15 % at most below it', () => {
    const grown = (rps: number) => ({ ...row('notify', 'sqlite', rps, 20, 100), seededOrders: 1_000_000 });
    const empty = row('notify', 'sqlite', 3000, 20, 100);
    const [within] = evaluateTargets([empty, grown(2550)], 50).filter((t) => t.measure.startsWith('growth'));
    const [beyond] = evaluateTargets([empty, grown(2549)], 50).filter((t) => t.measure.startsWith('growth'));
    expect(within).toMatchObject({ measure: 'growth: notify, sqlite, 1000000 orders stored', met: true });
    expect(beyond?.met).toBe(false);
    // As fast, but 16 % more CPU per request: the work per request grew.
    const cpu = (r: Row, us: number): Row => ({ ...r, load: { ...r.load, serverCpuUsPerRequest: us } });
    const [costlier] = evaluateTargets([cpu(empty, 1000), cpu(grown(3000), 1160)], 50).filter((t) =>
      t.measure.startsWith('growth'),
    );
    expect(costlier?.met).toBe(false);
    // A seeded row is not also judged against the empty-database targets.
    expect(evaluateTargets([grown(100)], 50).map((t) => t.measure)).toEqual([
      'Server peak RSS, any scenario',
    ]);
  });

  it('judges webhook delivery by its p99 delay, and only when every event was delivered', () => {
    const withHooks = (delayP99Ms: number, delivered: number): Row => ({
      ...row('webhooks', 'postgres', 500, 50, 150),
      webhooks: {
        events: 100,
        delivered,
        perSecond: 400,
        delayP50Ms: 100,
        delayP99Ms,
        delayMaxMs: delayP99Ms,
        drainS: 0.1,
      },
    });
    const judge = (r: Row) =>
      evaluateTargets([r], 50).find((t) =>
        t.measure.startsWith('webhook delivery under the notification load, postgres'),
      );
    expect(judge(withHooks(1000, 100))?.met).toBe(true);
    expect(judge(withHooks(1001, 100))?.met).toBe(false);
    expect(judge(withHooks(10, 99))?.met).toBe(false); // fast, but one event never arrived
  });

  it('does not count a p99 measured at another number of connections as met', () => {
    const [, p99] = evaluateTargets([row('notify', 'sqlite', 6000, 10, 100)], 10);
    expect(p99).toMatchObject({ measure: 'v2 notification p99, sqlite, 10 connections', met: false });
  });
});

describe('bench credit check', () => {
  let handle: DbHandle;
  let orders: PreparedOrder[];

  beforeEach(async () => {
    handle = await openDatabase('sqlite::memory:');
    await migrateToLatest(handle);
    orders = await prepareOrders(handle, 3);
  });
  afterEach(() => handle.close());

  const pay = (o: PreparedOrder, transactionId = o.transactionId) =>
    createOrderStore(handle.db, createOutbox({ livemode: false })).markPaid(
      o.id,
      { transactionId, paidAt: 1, source: 'notify' },
      2,
    );

  it('passes when every acknowledged order is PAID once with its transaction', async () => {
    await pay(orders[0]!);
    await pay(orders[1]!);
    const check = await checkCredits(handle, orders, new Set([0, 1]));
    expect(check).toMatchObject({ ok: true, acknowledged: 2, paid: 2, doubleCredits: 0, lostCredits: 0 });
  });

  it('fails when an acknowledged order is not PAID', async () => {
    await pay(orders[0]!);
    const check = await checkCredits(handle, orders, new Set([0, 2]));
    expect(check).toMatchObject({ ok: false, paid: 1, lostCredits: 1 });
  });

  it('fails when an order changed state twice or holds another transaction', async () => {
    await pay(orders[0]!);
    await pay(orders[1]!, 'another-transaction');
    await handle.db
      .insertInto('order_events')
      .values({ order_id: orders[0]!.id, type: 'state_changed', data: '{"to":"PAID"}', created_at: 3 })
      .execute();
    const check = await checkCredits(handle, orders, new Set([0, 1]));
    expect(check).toMatchObject({ ok: false, doubleCredits: 2 });
  });

  it('signs every prepared notification for its own order and transaction', () => {
    for (const o of orders) {
      const body = o.body.toString();
      expect(body).toContain(`<out_trade_no>${o.outTradeNo}</out_trade_no>`);
      expect(body).toContain(`<transaction_id>${o.transactionId}</transaction_id>`);
      expect(body).toMatch(/<sign>[0-9A-F]{64}<\/sign><\/xml>$/);
    }
    expect(new Set(orders.map((o) => o.transactionId)).size).toBe(3);
  });
});

describe('bench soak analysis', () => {
  /** 121 samples 5 s apart (a 10-minute soak), with the resources `at(i)` gives. */
  const soak = (
    at: (i: number) => Record<string, number>,
    rss = (_i: number) => 170 * 2 ** 20,
  ): SoakSample[] =>
    Array.from({ length: 121 }, (_, i) => ({
      t: i * 5,
      rss: rss(i),
      heapUsed: 40 * 2 ** 20,
      heapTotal: 60 * 2 ** 20,
      external: 0,
      resources: at(i),
    }));
  const trend = (samples: SoakSample[], type: string) =>
    analyzeSoak(samples, 600).resources.find((r) => r.type === type)!;

  it('flags a timer that is never cleared: its lowest count keeps rising', () => {
    expect(
      trend(
        soak((i) => ({ Timeout: Math.floor(i / 10) })),
        'Timeout',
      ).grows,
    ).toBe(true);
  });

  it('does not flag work in flight whose count depends on the sampling instant', () => {
    // Zero while the samples fall between bursts, then 0–8 once they drift into them.
    const inFlight = (i: number) => (i < 80 ? 0 : [0, 3, 8, 2, 5][i % 5]!);
    const samples = soak((i) => ({ Immediate: inFlight(i), Timeout: inFlight(i + 1) }));
    expect(trend(samples, 'Immediate')).toMatchObject({ grows: false, earlyFloor: 0, lateFloor: 0 });
    expect(trend(samples, 'Timeout').grows).toBe(false);
    expect(trend(samples, 'Immediate').late).toBeGreaterThan(2);
  });

  it('tells sockets that come and go with the load from sockets that stay', () => {
    const noisy = soak((i) => ({ TCPSocketWrap: 50 + ((i * 7) % 21) }));
    const leaking = soak((i) => ({ TCPSocketWrap: 50 + Math.floor(i / 8) + ((i * 7) % 5) }));
    expect(trend(noisy, 'TCPSocketWrap').grows).toBe(false);
    expect(trend(leaking, 'TCPSocketWrap').grows).toBe(true);
  });

  it('measures RSS growth from the tenth after warm-up to the last tenth', () => {
    const mb = 2 ** 20;
    const a = analyzeSoak(
      soak(
        () => ({}),
        (i) => (i < 60 ? 160 : 176) * mb,
      ),
      600,
    );
    expect(a.warmupS).toBe(120);
    expect(a.rssAfterWarmup).toBe(160 * mb);
    expect(a.rssAtEnd).toBe(176 * mb);
    expect(a.rssGrowth).toBeCloseTo(0.1, 5);
  });
});
