import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, cashier, type E2E, openShop, screenshot, startE2E } from './browser.js';

describe.skipIf(!browserAvailable)('browser demo, end to end (Chromium)', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E();
  });
  afterAll(async () => {
    await e2e?.close();
  });
  afterEach(async () => {
    await fetch(`${e2e.demo.simulatorUrl}/sim/faults`, { method: 'DELETE' });
  });

  async function orderRow(outTradeNo: string) {
    return e2e.demo.database.db
      .selectFrom('orders')
      .select(['id', 'status', 'amount', 'transaction_id', 'paid_source'])
      .where('out_trade_no', '=', outTradeNo)
      .executeTakeFirstOrThrow();
  }

  async function eventTypes(orderId: string) {
    const rows = await e2e.demo.database.db
      .selectFrom('order_events')
      .select('type')
      .where('order_id', '=', orderId)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.type);
  }

  it('buys a product: 支付成功 appears once the order is PAID in the database', async () => {
    const { page, errors } = await e2e.newPage();
    await openShop(page, e2e.demo.serviceUrl);
    await screenshot(page, '01-shop-desktop');
    const price = await page.locator('[data-testid^="price-"]').first().textContent();

    await page.locator('[data-testid^="buy-"]').first().click();
    const confirm = cashier(page).getByRole('button', { name: '确认支付' });
    await confirm.waitFor();
    await screenshot(page, '02-cashier');
    await confirm.click();

    await page.locator('[data-testid="order-status"][data-status="PAID"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('支付成功');
    expect(await page.locator('[data-testid="result-sub"]').textContent()).toBe(price);
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    const row = await orderRow(outTradeNo);
    expect(row.status).toBe('PAID');
    expect(row.transaction_id).toBe(await page.locator('[data-testid="transaction-id"]').textContent());

    // The side panel showed the signed parameters and the delivered notification.
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator('[data-kind="notification"]').first().waitFor();
    await expect.poll(() => timeline.textContent()).toContain('paySign');
    await screenshot(page, '03-paid-desktop');

    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, '04-paid-phone');
    await page.locator('[data-testid="lang-en"]').click();
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('Payment successful');
    await screenshot(page, '05-paid-phone-en', true);
    expect(errors).toEqual([]);
  });

  it('cancelled payment: a clear message, and the order stays PENDING', async () => {
    const { page, errors } = await e2e.newPage({ width: 390, height: 844 });
    await openShop(page, e2e.demo.serviceUrl);
    await screenshot(page, '06-shop-phone');
    await page.locator('[data-testid^="buy-"]').first().click();
    const cancel = cashier(page).getByRole('button', { name: '取消' });
    await cancel.waitFor();

    // A "paid" message from anywhere but the simulator's origin is ignored by the wx shim.
    const src = (await page.locator('#cashier-frame').getAttribute('src')) ?? '';
    const prepayId = new URL(src).searchParams.get('prepay_id');
    await page.evaluate((id) => {
      // Runs in the page; the test's own types have no DOM, hence the narrow cast.
      const page = globalThis as unknown as { postMessage(message: unknown, origin: string): void };
      page.postMessage({ type: 'weapp-pay-sim:payment', prepay_id: id, result: 'SUCCESS' }, '*');
    }, prepayId);
    await page.waitForTimeout(200);
    expect(await page.locator('#cashier-frame').count()).toBe(1);
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('请在收银台完成支付');

    await cancel.click();

    await page.locator('[data-testid="pay-again"]').waitFor();
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('您已取消支付');
    expect(await page.locator('[data-testid="result-sub"]').textContent()).toContain('订单仍为待支付');
    expect(await page.locator('[data-testid="order-status"]').getAttribute('data-status')).toBe('PENDING');
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    expect((await orderRow(outTradeNo)).status).toBe('PENDING');
    expect(await page.locator('body').textContent()).not.toContain('支付成功');
    await screenshot(page, '07-cancelled-phone');
    expect(errors).toEqual([]);
  });

  it('dropped notifications: "我已支付，查询结果" (/sync) takes the order to PAID', async () => {
    const { page, errors } = await e2e.newPage();
    // The result screen offers the check after 2 s instead of 10, well before the reconciler's turn.
    await openShop(page, e2e.demo.serviceUrl, '?confirm=2');
    await page.locator('[data-testid="fault-drop"]').check();
    await page.locator('[data-testid="faults-active"]', { hasText: 'NOTIFY_DROP' }).waitFor();

    await page.locator('[data-testid^="buy-"]').first().click();
    await cashier(page).getByRole('button', { name: '确认支付' }).click();
    const sync = page.locator('[data-testid="sync"]');
    await sync.waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('暂未收到支付结果');
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    const before = await orderRow(outTradeNo);
    expect(before.status).toBe('PENDING');
    await screenshot(page, '08-unconfirmed');

    await sync.click();
    await page.locator('[data-testid="order-status"][data-status="PAID"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('支付成功');
    expect((await orderRow(outTradeNo)).status).toBe('PAID');
    const types = await eventTypes(before.id);
    expect(types).toContain('queried');
    expect(types).not.toContain('notification_received');
    // The panel shows the tap and the service's query at WeChat that it triggered.
    await page.locator('[data-testid="timeline"] [data-kind="sync"]').waitFor();
    await page.locator('[data-testid="timeline"] [data-kind="event-queried"]').first().waitFor();
    await screenshot(page, '09-recovered-by-sync');
    expect(errors).toEqual([]);
  });
});
