import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, type E2E, screenshot, startE2E } from './browser.js';
import { paidOrder } from './paid-order.js';

describe.skipIf(!browserAvailable)('operator console in Chromium', () => {
  let e2e: E2E;
  let order: { id: string; outTradeNo: string };

  beforeAll(async () => {
    e2e = await startE2E();
    order = await paidOrder(e2e);
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
        const row = await e2e.demo.database.db.selectFrom('anomalies').selectAll().executeTakeFirstOrThrow();
        expect(row).toMatchObject({ resolved_by: 'admin:小王', resolution_note: '已核实，顾客已收货' });
      } else {
        await page.waitForSelector('[data-testid="anomalies-empty"]');
      }
      await screenshot(page, `console-06-anomalies-done-${lang}`);
      await page.click('[data-testid="nav-reconciliations"]');
      await page.waitForSelector('[data-testid="reconciliations-empty"]');
      await page.click('#signout');
      await page.waitForSelector('[data-testid="signin"]');
      // Chromium logs each 401 it was given (the session check before sign-in, the wrong token).
      expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
