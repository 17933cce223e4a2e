import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type TestReceiver } from '../webhooks/receiver.js';
import { browserAvailable, type E2E, screenshot, startE2E } from './browser.js';
import { paidOrder } from './paid-order.js';

/**
 * The console's Webhooks page in Chromium against the demo (which runs the deliverer): add an
 * endpoint, read its secret once, receive a paid order's event signed with it, resend it.
 */
describe.skipIf(!browserAvailable)('operator console: webhooks in Chromium', () => {
  let e2e: E2E;
  let receiver: TestReceiver;

  beforeAll(async () => {
    e2e = await startE2E();
    receiver = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await e2e?.close();
  });

  it('adds an endpoint, shows its secret once, lists the delivery and resends it', async () => {
    const { page, errors } = await e2e.newPage();
    await page.goto(`${e2e.demo.serviceUrl}/admin?lang=en`);
    await page.fill('input[name="token"]', e2e.demo.adminToken);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="tile-paid"]');
    await page.click('[data-testid="nav-webhooks"]');
    await page.waitForSelector('[data-testid="webhook-create"]');
    await page.fill('[data-testid="webhook-url"]', receiver.url);
    await page.click('[data-testid="webhook-add"]');
    await page.waitForSelector('[data-testid="new-secret"]');
    const secret = (await page.locator('[data-testid="secret-value"]').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    receiver.secret = secret;
    await expect.poll(() => page.locator('[data-testid="webhook-row"]').count()).toBe(1);
    await screenshot(page, 'console-07-webhooks-en');

    const order = await paidOrder(e2e);
    await expect.poll(() => receiver.applied.length, { timeout: 10_000 }).toBe(1);
    expect(receiver.received[0]).toMatchObject({ type: 'payment.succeeded', verified: true });
    expect(JSON.parse(receiver.received[0]!.body).data.object.id).toBe(order.id);

    await page.reload();
    await page.click(`text=${receiver.url}`);
    await page.waitForSelector('[data-testid="delivery"]');
    expect(await page.locator('[data-testid="attempt"]').first().textContent()).toContain('HTTP 200');
    expect(await page.content()).not.toContain(secret); // shown once, never again
    await page.click('[data-testid="resend"]');
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(2);
    expect(receiver.applied).toHaveLength(1);
    await screenshot(page, 'console-08-webhook-deliveries-en', true);
    expect(errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    await page.close();
  }, 60_000);
});
