/**
 * The benchmark's own logic, without load: option parsing, the target verdicts, and the
 * database check that must catch a lost or double credit. (The load runs themselves are not
 * tests: they take minutes and their numbers depend on the machine.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBenchArgs, reportPaths } from '../../bench/args.js';
import type { LoadResult } from '../../bench/load.js';
import { type PreparedOrder, prepareOrders } from '../../bench/prepare.js';
import { evaluateTargets, type Row } from '../../bench/report.js';
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
        scenarios: ['notify', 'notify-v3', 'notify-nodb', 'orders', 'login', 'duplicates'],
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
  });

  it('meets each target exactly at its threshold and misses it just past', () => {
    const met = evaluateTargets(
      [row('notify', 'sqlite', 6000, 25, 200), row('orders', 'postgres', 2500, 900, 150)],
      50,
    );
    expect(met.map((t) => [t.measure, t.met])).toEqual([
      ['v2 notification throughput, SQLite', true],
      ['v2 notification p99, sqlite, 50 connections', true],
      ['Order creation throughput, postgres', true],
      ['Server peak RSS, any scenario', true],
    ]);
    const missed = evaluateTargets(
      [row('notify', 'sqlite', 5999, 25.5, 201), row('orders', 'postgres', 2499, 900, 150)],
      50,
    );
    expect(missed.map((t) => t.met)).toEqual([false, false, false, false]);
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
