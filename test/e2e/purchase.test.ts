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

  it('refunds through the admin API show on the result page: in progress, then refunded', async () => {
    const { page, errors } = await e2e.newPage({ width: 390, height: 844 });
    await openShop(page, e2e.demo.serviceUrl);
    await page.locator('[data-testid="buy-coffee-latte"]').click();
    await cashier(page).getByRole('button', { name: '确认支付' }).click();
    await page.locator('[data-testid="order-status"][data-status="PAID"]').waitFor({ timeout: 15_000 });
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    const { id } = await orderRow(outTradeNo);

    const res = await fetch(`${e2e.demo.serviceUrl}/admin/orders/${id}/refunds`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${e2e.demo.adminToken}`,
        'content-type': 'application/json',
        'idempotency-key': `e2e-refund-${outTradeNo}`,
      },
      body: JSON.stringify({ amount: 800, reason: '少一杯' }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    // The page polls the order while it is on screen: the refund appears while WeChat processes it.
    const refund = page.locator('[data-testid="refund"]');
    await refund.and(page.locator('[data-status="PROCESSING"]')).waitFor({ timeout: 10_000 });
    expect(await refund.textContent()).toMatch(/¥8\.00\s*退款中/);
    await screenshot(page, '05b-refund-processing-phone');

    // WeChat's refund completes a minute later (the simulator's clock moves on); the service
    // learns it from the refund reconciler's query, and the page follows.
    await fetch(`${e2e.demo.simulatorUrl}/sim/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 61 }),
    });
    await page
      .locator('[data-testid="order-status"][data-status="PARTIALLY_REFUNDED"]')
      .waitFor({ timeout: 45_000 });
    expect(await page.locator('[data-testid="result-title"]').textContent()).toBe('订单已部分退款');
    expect(await page.locator('[data-testid="result-sub"]').textContent()).toBe('已退 ¥8.00（共 ¥28.00）');
    expect(await refund.getAttribute('data-status')).toBe('SUCCESS');
    expect(await page.locator('[data-testid="refund-status"]').textContent()).toBe('已退回');
    await screenshot(page, '05c-refunded-phone');
    await page.locator('[data-testid="lang-en"]').click();
    expect(await page.locator('[data-testid="refund-status"]').textContent()).toBe('Refunded');
    await fetch(`${e2e.demo.simulatorUrl}/sim/clock/reset`, { method: 'POST' });
    expect(errors).toEqual([]);
  }, 90_000);

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
    await page.locator('[data-testid="faults-active"]', { hasText: '丢弃支付通知' }).waitFor();

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

  async function simJson(path: string): Promise<{ faults?: unknown[]; offset_ms?: number }> {
    return (await fetch(`${e2e.demo.simulatorUrl}${path}`)).json() as Promise<{
      faults?: unknown[];
      offset_ms?: number;
    }>;
  }

  it('fault panel: drawn from the simulator after a reload, says how long a fault lasts, one switch undoes it', async () => {
    const { page, errors } = await e2e.newPage();
    await openShop(page, e2e.demo.serviceUrl);
    await page.locator('[data-testid="fault-drop"]').check();
    const active = page.locator('[data-testid="faults-active"]');
    await active.locator('li', { hasText: '丢弃支付通知 · 一直有效，直到关闭' }).waitFor();
    expect((await simJson('/sim/faults')).faults).toMatchObject([{ fault: 'NOTIFY_DROP', times: null }]);

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await active.locator('li', { hasText: '丢弃支付通知' }).waitFor();
    expect(await page.locator('[data-testid="fault-drop"]').isChecked()).toBe(true);
    await screenshot(page, '10-faults-after-reload');

    await page.locator('[data-testid="fault-drop"]').uncheck();
    await active.locator('li', { hasText: '无' }).waitFor();
    expect((await simJson('/sim/faults')).faults).toEqual([]);
    expect(await page.locator('[data-testid="fault-drop"]').isChecked()).toBe(false);
    const timeline = await page.locator('[data-testid="timeline"]').textContent();
    expect(timeline).toContain('模拟器：撤销故障“丢弃支付通知”');
    expect(timeline).not.toMatch(/[{}]/);
    expect(errors).toEqual([]);
  });

  it('clock: shows how far the simulator runs ahead, and puts it back', async () => {
    const { page, errors } = await e2e.newPage();
    await openShop(page, e2e.demo.serviceUrl);
    const offset = page.locator('[data-testid="clock-offset"]');
    await offset.filter({ hasText: '与真实时间一致' }).waitFor();
    await page.locator('[data-testid="clock-advance"]').click();
    await offset.filter({ hasText: '比真实时间快 1 分 0 秒' }).waitFor();
    // Real time passes while the simulator steps its clock, so the offset is a hair under 60 s.
    expect((await simJson('/sim/clock')).offset_ms).toBeGreaterThan(59_000);
    await screenshot(page, '11-clock-ahead');
    await page.locator('[data-testid="lang-en"]').click();
    expect(await offset.textContent()).toBe('1 min 0 s ahead of real time');
    await screenshot(page, '12-clock-ahead-en');

    await page.locator('[data-testid="clock-reset"]').click();
    await offset.filter({ hasText: 'in step with real time' }).waitFor();
    expect((await simJson('/sim/clock')).offset_ms).toBe(0);
    expect(errors).toEqual([]);
  });

  it('lost notification: the reconciler settles the order, and the timeline says so in words', async () => {
    const { page, errors } = await e2e.newPage();
    await openShop(page, e2e.demo.serviceUrl);
    await page.locator('[data-testid="fault-drop"]').check();
    await page.locator('[data-testid="faults-active"]', { hasText: '丢弃支付通知' }).waitFor();
    await page.locator('[data-testid^="buy-"]').first().click();
    await cashier(page).getByRole('button', { name: '确认支付' }).click();

    // The demo's reconciler queries orders 10 s old, every 5 s; nobody taps "I paid".
    const settled = page.locator('[data-testid="timeline"] [data-kind="lost-notification-settled"]');
    await settled.waitFor({ timeout: 30_000 });
    expect(await settled.textContent()).toContain(
      '支付通知始终没有到达，服务端的对账任务向微信查询后确认已支付',
    );
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    const row = await orderRow(outTradeNo);
    expect(row).toMatchObject({ status: 'PAID', paid_source: 'query' });
    expect(await eventTypes(row.id)).not.toContain('notification_received');
    await page.locator('[data-testid="order-status"][data-status="PAID"]').waitFor();
    const dropped = page.locator('[data-testid="timeline"] [data-kind="notification"]').first();
    expect(await dropped.textContent()).toContain('按故障设置丢弃，从未发出');
    await settled.scrollIntoViewIfNeeded();
    await screenshot(page, '13-lost-notification-settled');
    await page.locator('[data-testid="lang-en"]').click();
    expect(await settled.textContent()).toContain('The notification never came; the reconciler asked WeChat');
    await screenshot(page, '14-lost-notification-settled-en');
    expect(errors).toEqual([]);
  }, 60_000);

  it('English cashier, numbered duplicate deliveries, one entry per close', async () => {
    const { page, errors } = await e2e.newPage();
    await openShop(page, e2e.demo.serviceUrl, '?lang=en');
    await page.locator('[data-testid="fault-duplicate"]').check();
    await page
      .locator('[data-testid="faults-active"]', { hasText: 'Send every notification 3 times' })
      .waitFor();
    await page.locator('[data-testid^="buy-"]').first().click();
    await cashier(page).getByRole('button', { name: 'Confirm payment' }).click();
    await page.locator('[data-testid="order-status"][data-status="PAID"]').waitFor({ timeout: 15_000 });
    const timeline = page.locator('[data-testid="timeline"]');
    await timeline.locator('[data-kind="notification"]', { hasText: 'copy 3' }).first().waitFor();
    expect(
      await timeline.locator('[data-kind="notification"]', { hasText: 'copy 2' }).count(),
    ).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="body"], .kv').first().textContent()).toMatch(
      /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/,
    );
    await screenshot(page, '15-paid-duplicates-en');
    await page.setViewportSize({ width: 390, height: 844 });
    const txn = page.locator('[data-testid="transaction-id"]');
    const box = await txn.boundingBox();
    expect(box?.height ?? 99).toBeLessThan(24); // one line: the number is not broken
    await screenshot(page, '16-paid-phone-en');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('[data-testid="fault-duplicate"]').uncheck();

    await page.locator('[data-testid="back"]').click();
    await page.locator('[data-testid^="buy-"]').first().click();
    await cashier(page).getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid="close-order"]').click();
    await page.locator('[data-testid="order-status"][data-status="CLOSED"]').waitFor();
    await page.locator('[data-testid="lang-zh"]').click();
    const changes = timeline.locator('[data-kind="event-state_changed"]');
    await expect.poll(() => changes.count()).toBeGreaterThan(0);
    await page.waitForTimeout(1500); // a second poll of the events must not add another entry
    const outTradeNo = (await page.locator('[data-testid="out-trade-no"]').textContent()) ?? '';
    const closedId = (await orderRow(outTradeNo)).id;
    const closeEntries = await changes.filter({ hasText: '已关闭' }).count();
    expect(closeEntries).toBe(1);
    expect((await eventTypes(closedId)).filter((t) => t === 'state_changed').length).toBe(2);
    expect(await page.locator('[data-testid="result-hero"] svg[data-icon="closed"]').count()).toBe(1);
    await screenshot(page, '17-closed-zh');
    expect(errors).toEqual([]);
  });
});
