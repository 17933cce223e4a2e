/**
 * `weapp-pay reconcile` as an operator runs it: the real command in a child process, against the
 * simulator over HTTP and the database a running service wrote, on both databases. A payment
 * whose notification was dropped and an amount altered in our books make the findings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationReport } from '../../src/reconcile/report.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CATALOGUE, CREDENTIALS, type Harness, startHarness } from '../service/harness.js';
import { runCli, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];

for (const database of testDatabases()) {
  describe(`weapp-pay reconcile (the command, ${database.name})`, { timeout: 120_000 }, () => {
    let db: TestDbHandle;
    let h: Harness;
    let dir: string;
    let env: Record<string, string>;
    const orders: { id: string; outTradeNo: string }[] = [];

    beforeAll(async () => {
      db = await database.openMigrated();
      h = await startHarness(db);
      for (const drop of [true, false]) {
        const { token } = await h.login();
        const res = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 });
        const { order, payment } = (await res.json()) as {
          order: { id: string; outTradeNo: string };
          payment: { package: string };
        };
        if (drop) await h.sim('/sim/faults', { fault: 'NOTIFY_DROP', out_trade_no: order.outTradeNo });
        await h.sim('/sim/pay', { prepay_id: payment.package.slice('prepay_id='.length), result: 'SUCCESS' });
        await h.clock.settle();
        orders.push(order);
      }
      await h.clock.advance(Date.UTC(2024, 0, 2, 2) - h.clock.now()); // 2024-01-02 10:00 Beijing
      dir = tempDir(cleanups);
      const catalogue = join(dir, 'catalogue.json');
      writeFileSync(catalogue, JSON.stringify(CATALOGUE));
      env = {
        DATABASE_URL: db.url,
        CATALOGUE_FILE: catalogue,
        WECHAT_APPID: CREDENTIALS.appid,
        WECHAT_SECRET: CREDENTIALS.secret,
        WECHAT_MCHID: CREDENTIALS.mchId,
        WECHAT_MCH_KEY: CREDENTIALS.key,
        WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
        WECHAT_PAY_BASE_URL: h.simulatorUrl,
        WECHAT_API_BASE_URL: h.simulatorUrl,
      };
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
      for (const c of cleanups.splice(0)) c();
    });

    const status = async (id: string) =>
      (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;

    it('settles the lost payment, reports the altered amount, and exits 1; plain progress lines off a terminal', async () => {
      const [lost, altered] = orders as [
        { id: string; outTradeNo: string },
        { id: string; outTradeNo: string },
      ];
      expect(await status(lost.id)).toBe('PENDING');
      await db.db.updateTable('orders').set({ amount: 2799 }).where('id', '=', altered.id).execute();

      const run = await runCli(['reconcile', '--date', '2024-01-01', '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(1);
      const report = JSON.parse(run.stdout) as ReconciliationReport;
      expect(report).toMatchObject({
        billDate: '2024-01-01',
        status: 'needs_attention',
        counts: { findings: 2, needPerson: 1, settled: 1 },
      });
      expect(report.findings.map((f) => [f.kind, f.ref, f.needsPerson])).toEqual([
        ['bill_payment_not_recorded', lost.outTradeNo, false],
        ['bill_amount_mismatch', altered.outTradeNo, true],
      ]);
      expect(await status(lost.id)).toBe('PAID');
      expect(run.stderr).toContain("downloading WeChat's bill: 1 step(s)\n");
      expect(run.stderr).toContain('settling the differences by query: 2 step(s)\n');
      expect(run.stderr).not.toContain('\r');

      const text = await runCli(['reconcile', '--date', '2024-01-01'], { cwd: dir, env });
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^Reconciliation of 2024-01-01 \(API v2\): NEEDS ATTENTION/);
      expect(text.stdout).toContain(`✗ bill_amount_mismatch  ${altered.outTradeNo}`);
      expect(text.stdout).toContain('amount: bill 2800, ours 2799');
    });

    it('exits 0 once the books agree, and for a day without a bill', async () => {
      const altered = orders[1]!;
      await db.db.updateTable('orders').set({ amount: 2800 }).where('id', '=', altered.id).execute();
      const agreed = await runCli(['reconcile', '--date', '2024-01-01'], { cwd: dir, env });
      expect([agreed.code, agreed.stdout.split('\n')[0]]).toEqual([
        0,
        'Reconciliation of 2024-01-01 (API v2): clean: the bill and our books agree',
      ]);
      const empty = await runCli(['reconcile', '--date', '2023-12-31', '--json'], { cwd: dir, env });
      expect(empty.code, empty.stderr).toBe(0);
      expect(JSON.parse(empty.stdout)).toMatchObject({ status: 'clean', bill: { rows: 0 } });
    });

    it('exits 2 when the run cannot be done: no date, a bad date, an unknown option, bad settings', async () => {
      const cases: [string[], Record<string, string>, RegExp][] = [
        [['reconcile'], env, /--date YYYY-MM-DD is required/],
        [['reconcile', '--date', '2024-02-30'], env, /must be a real date/],
        [['reconcile', '--date', '2024-01-01', '--jsn'], env, /unknown option '--jsn'/],
        [
          ['reconcile', '--date', '2024-01-01'],
          { ...env, WECHAT_MCH_KEY: 'short' },
          /WECHAT_MCH_KEY must be 32/,
        ],
      ];
      for (const [args, e, message] of cases) {
        const run = await runCli(args, { cwd: dir, env: e });
        expect([run.code, run.stdout]).toEqual([2, '']);
        expect(run.stderr).toMatch(message);
      }
    });
  });
}
