import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countsOf,
  type ReconciliationReport,
  type ReportFinding,
  statusOf,
} from '../../src/reconcile/report.js';
import { saveReport } from '../../src/reconcile/report-store.js';
import { browserAvailable, type E2E, screenshot, startE2E } from './browser.js';
import { paidOrder } from './paid-order.js';

/** A bill date long past: the simulator has no bill for it, so a run finds the day clean. */
const EMPTY_DATE = '2024-03-01';
const BILL_DATE = '2024-01-01';

/** A stored report with one finding for a person and one the run settled, as reconcileDay saves them. */
function reportFor(order: { id: string; outTradeNo: string }): ReconciliationReport {
  const findings: ReportFinding[] = [
    {
      kind: 'bill_amount_mismatch',
      ref: order.outTradeNo,
      orderId: order.id,
      bill: { transactionId: '4200000001', amount: 1300, line: 2 },
      ours: { status: 'PAID', amount: 1200, transactionId: '4200000001' },
      needsPerson: true,
    },
    {
      kind: 'bill_payment_not_recorded',
      ref: 'ORDER_LOST_0001',
      bill: { transactionId: '4200000002', amount: 900, line: 3 },
      ours: { status: 'PENDING', amount: 900, transactionId: null },
      action: 'settled_by_order_query',
      after: 'PAID',
      needsPerson: false,
    },
  ];
  return {
    billDate: BILL_DATE,
    apiVersion: 'v3',
    status: statusOf(findings),
    bill: { payments: { count: 2, amount: 2200 }, refunds: { count: 0, amount: 0 }, rows: 2 },
    ours: { payments: { count: 2, amount: 2100 }, refunds: { count: 0, amount: 0 } },
    counts: countsOf(findings),
    findings,
    startedAt: Date.now(),
    finishedAt: Date.now(),
  };
}

describe.skipIf(!browserAvailable)('operator console in Chromium', () => {
  let e2e: E2E;
  let order: { id: string; outTradeNo: string };

  beforeAll(async () => {
    e2e = await startE2E();
    order = await paidOrder(e2e);
    const saved = await saveReport(e2e.demo.database.db, reportFor(order), Date.now());
    // A person already dealt with it, so the open queue below holds only the anomaly this test resolves.
    await e2e.demo.database.db
      .updateTable('anomalies')
      .set({ resolved_at: Date.now(), resolved_by: 'admin:test', resolution_note: 'price changed that day' })
      .where('id', '=', saved.findings[0]!.anomalyId!)
      .execute();
    await e2e.demo.database.db
      .insertInto('anomalies')
      .values({
        kind: 'paid_after_close',
        ref: order.outTradeNo,
        order_id: order.id,
        data: '{"note":"<b>x</b>"}',
        created_at: Date.now(),
      })
      .execute();
  }, 60_000);
  afterAll(async () => {
    await e2e?.close();
  });

  for (const lang of ['zh', 'en'] as const) {
    it(`signs in, finds an order, resolves an anomaly (${lang})`, async () => {
      const { page, errors } = await e2e.newPage();
      await page.goto(`${e2e.demo.serviceUrl}/admin?lang=${lang}`);
      await page.waitForSelector('[data-testid="signin"]');
      await screenshot(page, `console-01-signin-${lang}`);

      await page.fill('input[name="token"]', 'wrong-token');
      await page.click('button[type="submit"]');
      await expect
        .poll(() => page.locator('.signin .error').textContent())
        .toMatch(lang === 'zh' ? /令牌不正确/ : /not right/);

      await page.fill('input[name="token"]', e2e.demo.adminToken);
      await page.fill('input[name="name"]', lang === 'zh' ? '小王' : 'alice');
      await page.click('button[type="submit"]');
      await page.waitForSelector('[data-testid="tile-paid"]');
      await page.waitForSelector('body[data-ready="true"]');
      const cookies = await e2e.context.cookies();
      const session = cookies.find((c) => c.name === 'weapp_pay_console');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(session?.value).not.toContain(e2e.demo.adminToken);
      expect(await page.locator('canvas').count()).toBe(3);
      await screenshot(page, `console-02-summary-${lang}`, true);

      await page.click('[data-testid="nav-orders"]');
      await page.waitForSelector('[data-testid="filter-out-trade-no"]');
      await page.fill('[data-testid="filter-out-trade-no"]', order.outTradeNo);
      await page.click('[data-testid="order-filters"] button[type="submit"]');
      await expect.poll(() => page.locator('[data-testid="order-row"]').count()).toBe(1);
      await screenshot(page, `console-03-orders-${lang}`);
      await page.click(`text=${order.outTradeNo}`);
      await page.waitForSelector('[data-testid="timeline"] li');
      expect(await page.locator('[data-testid="timeline"]').textContent()).toContain('notification_received');
      await page.waitForSelector('[data-testid="refund-form"]');
      await screenshot(page, `console-04-order-${lang}`, true);

      await page.click('[data-testid="nav-anomalies"]');
      await page.waitForSelector('body[data-ready="true"]');
      if (lang === 'zh') {
        await page.waitForSelector('[data-testid="anomaly"]');
        expect(await page.locator('[data-testid="anomaly"] b').count()).toBe(0); // shown as text, not HTML
        await screenshot(page, `console-05-anomalies-${lang}`);
        await page.fill('[data-testid="resolve-note"]', '已核实，顾客已收货');
        await page.click('[data-testid="resolve"]');
        await page.waitForSelector('[data-testid="anomalies-empty"]');
        const row = await e2e.demo.database.db
          .selectFrom('anomalies')
          .selectAll()
          .where('kind', '=', 'paid_after_close')
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ resolved_by: 'admin:小王', resolution_note: '已核实，顾客已收货' });
      } else {
        await page.waitForSelector('[data-testid="anomalies-empty"]');
      }
      await screenshot(page, `console-06-anomalies-done-${lang}`);
      await page.click('[data-testid="nav-reconciliations"]');
      await page.waitForSelector('[data-testid="reconciliation-row"]');
      await screenshot(page, `console-07-reconciliations-${lang}`);
      await page.click(`text=${BILL_DATE}`);
      await expect.poll(() => page.locator('[data-testid="finding"]').count()).toBe(2);
      const findings = await page.locator('[data-testid="finding"]').allTextContents();
      expect(findings[0]).toContain(order.outTradeNo);
      expect(findings[0]).toMatch(lang === 'zh' ? /金额不一致/ : /Amount differs/);
      expect(findings[1]).toMatch(lang === 'zh' ? /查询订单后入账/ : /order queried and recorded/);
      await screenshot(page, `console-08-reconciliation-report-${lang}`, true);
      // The anomaly link opens the queue filtered to that kind, resolved ones included.
      await page.click('[data-testid="finding"] >> nth=0 >> a[href^="#/anomalies"]');
      await page.waitForSelector('body[data-ready="true"]');
      await expect.poll(() => page.locator('[data-testid="anomaly"]').count()).toBe(1);
      expect(await page.locator('[data-testid="anomaly"]').textContent()).toContain('bill_amount_mismatch');

      // A run on demand from the page: a day without any payment is clean.
      await page.click('[data-testid="nav-reconciliations"]');
      await page.waitForSelector('[data-testid="reconcile-form"]');
      await page.fill('[data-testid="reconcile-form"] input[name="date"]', EMPTY_DATE);
      await page.click('[data-testid="reconcile-form"] button[type="submit"]');
      await page.waitForSelector('[data-testid="findings-empty"]');
      expect(await page.locator('[data-testid="report-status"]').textContent()).toBe(
        lang === 'zh' ? '一致' : 'Clean',
      );
      await page.click('#signout');
      await page.waitForSelector('[data-testid="signin"]');
      // Chromium logs each 401 it was given (the session check before sign-in, the wrong token).
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
