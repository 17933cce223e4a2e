/**
 * The Koa example shop against the real thing: weapp-pay and the simulator over HTTP, the shop
 * as a child process with its own SQLite file, and a proxy between them that can fail attempts.
 * The shop creates payments through /v1, the payer pays at the simulator's cashier, and the
 * shop must ship each paid order exactly once, whatever the delivery does. Both databases.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/webhooks/signature.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from '../service/harness.js';
import { type FlakyProxy, startFlakyProxy } from './flaky-proxy.js';
import { EXAMPLE_DIR, type ShopProcess, startShop } from './koa-shop-process.js';

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

interface ShopOrderView {
  order: { id: string; status: string; amount_fen: number; payment_id: string | null };
  shipments: { order_id: string }[];
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the built package', () => {
  it('exists: the shop imports weapp-pay/webhooks from dist/ (run `npm run build` first)', () => {
    expect(existsSync(join(EXAMPLE_DIR, '../../dist/webhooks/index.js'))).toBe(true);
  });
});

for (const database of testDatabases()) {
  describe(`examples/koa-shop with weapp-pay on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let proxy: FlakyProxy;
    let shop: ShopProcess;
    let secret: string;
    let openid: string;
    let dir: string;
    let key: string;

    beforeAll(async () => {
      db = await database.openMigrated();
      // The shop checks each webhook's timestamp against its own clock: start ours at the real now.
      h = await startHarness(db, { startMs: Date.now() });
      h.service.webhooks.start();
      const created = await h.api('POST', '/admin/api-keys', undefined, { name: 'koa-shop' }, admin);
      key = ((await created.json()) as { key: string }).key;
      proxy = await startFlakyProxy();
      const endpoint = await h.api(
        'POST',
        '/admin/webhooks',
        undefined,
        { url: `${proxy.url}/webhooks/weapp-pay`, eventTypes: ['payment.succeeded'] },
        admin,
      );
      secret = ((await endpoint.json()) as { secret: string }).secret;
      dir = mkdtempSync(join(tmpdir(), 'koa-shop-'));
      shop = await startShop({
        WEAPP_PAY_URL: h.serviceUrl,
        WEAPP_PAY_API_KEY: key,
        WEAPP_PAY_WEBHOOK_SECRET: secret,
        SHOP_DB: join(dir, 'shop.db'),
      });
      proxy.target = shop.url;
      const { code } = (await h.sim('/sim/login', { appid: CREDENTIALS.appid })).json as { code: string };
      openid = ((await (await h.api('POST', '/v1/code2session', key, { code })).json()) as { openid: string })
        .openid;
    }, 60_000);
    afterAll(async () => {
      await shop?.stop();
      await proxy?.close();
      await h?.close();
      await db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const shopOrder = async (id: string) =>
      (await (await fetch(`${shop.url}/orders/${id}`)).json()) as ShopOrderView;

    /** The shop prices and creates the order and its payment; the payer pays at the cashier. */
    async function buyCoffee({ pay = true } = {}) {
      const res = await fetch(`${shop.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'beans', quantity: 2, openid }),
      });
      expect(res.status, shop.output.join('')).toBe(201);
      const { order, requestPayment } = (await res.json()) as {
        order: { id: string };
        requestPayment: { package: string };
      };
      if (pay) {
        await h.sim('/sim/pay', {
          prepay_id: requestPayment.package.slice('prepay_id='.length),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment: requestPayment,
        });
        await h.clock.settle();
      }
      return order.id;
    }

    /** The payment.succeeded event id of a shop order, from the event log. */
    async function eventIdFor(orderId: string): Promise<string> {
      return until(`the event of ${orderId}`, async () => {
        const page = (await (
          await h.api('GET', '/admin/events?limit=500', undefined, undefined, admin)
        ).json()) as {
          events: { id: string; data: { object: { outTradeNo: string } } }[];
        };
        const id = page.events.find((e) => e.data.object.outTradeNo === orderId)?.id;
        return id;
      });
    }
    const deliveryOf = async (eventId: string) =>
      (
        (await (await h.api('GET', `/admin/events/${eventId}`, undefined, undefined, admin)).json()) as {
          deliveries: { status: string; attempts: number }[];
        }
      ).deliveries[0];

    it("ships a paid order once: the payment made through /v1 with the shop's amount and order id", async () => {
      const orderId = await buyCoffee();
      const view = await until('the shipment', async () => {
        const v = await shopOrder(orderId);
        return v.order.status === 'paid' ? v : undefined;
      });
      expect(view.shipments).toHaveLength(1);
      const found = await h.api('GET', `/v1/payments?out_trade_no=${orderId}`, key);
      const { payments } = (await found.json()) as {
        payments: { id: string; amount: number; status: string }[];
      };
      expect(payments).toEqual([
        expect.objectContaining({ id: view.order.payment_id, amount: 13_600, status: 'PAID' }),
      ]);
      const eventId = await eventIdFor(orderId);
      const attempts = proxy.attempts.filter((a) => a.eventId === eventId);
      expect(attempts.map((a) => [a.status, JSON.parse(a.shop!.body).outcome])).toEqual([[200, 'applied']]);
      expect(view.order).toMatchObject({ amount_fen: 13_600, payment_id: expect.stringMatching(/.+/) });
    });

    it('ships once when the first attempts fail: one never reaches the shop, one is applied but answered 500', async () => {
      proxy.planNext(['down', 'lost']);
      const orderId = await buyCoffee();
      const eventId = await eventIdFor(orderId);
      // Each failed attempt is recorded, and its retry scheduled on the clock, before time moves on.
      for (const [failures, wait] of [
        [1, 15_000],
        [2, 30_000],
      ] as const) {
        await until(
          `attempt ${failures} recorded`,
          async () => ((await deliveryOf(eventId))?.attempts ?? 0) >= failures,
        );
        await h.clock.advance(wait);
        h.service.webhooks.wake();
      }
      await until('the delivery to succeed', async () => (await deliveryOf(eventId))?.status === 'succeeded');
      const attempts = proxy.attempts.filter((a) => a.eventId === eventId);
      expect(attempts.map((a) => [a.step, a.status, a.shop && JSON.parse(a.shop.body).outcome])).toEqual([
        ['down', 503, undefined],
        ['lost', 500, 'applied'],
        ['forwarded', 200, 'duplicate'],
      ]);
      const view = await shopOrder(orderId);
      expect(view.order.status).toBe('paid');
      expect(view.shipments).toHaveLength(1);
    });

    it('deduplicates a resent event (POST /admin/events/:id/resend): still one shipment', async () => {
      const orderId = await buyCoffee();
      const eventId = await eventIdFor(orderId);
      await until('the first delivery', () => proxy.attempts.some((a) => a.eventId === eventId) || undefined);
      const resent = await h.api('POST', `/admin/events/${eventId}/resend`, undefined, undefined, admin);
      expect(resent.status).toBe(202);
      const attempts = await until('the resend', () => {
        const seen = proxy.attempts.filter((a) => a.eventId === eventId);
        return seen.length >= 2 ? seen : undefined;
      });
      expect(attempts.map((a) => [a.status, JSON.parse(a.shop!.body).outcome])).toEqual([
        [200, 'applied'],
        [200, 'duplicate'],
      ]);
      expect((await shopOrder(orderId)).shipments).toHaveLength(1);
    });

    it('refuses a forged webhook with 400 and ships nothing', async () => {
      const orderId = await buyCoffee({ pay: false });
      const body = JSON.stringify({
        id: 'evt_forged',
        type: 'payment.succeeded',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        data: {
          object: {
            object: 'payment',
            id: 'pay_forged',
            outTradeNo: orderId,
            status: 'PAID',
            amount: 13_600,
          },
        },
      });
      const now = Math.floor(Date.now() / 1000);
      const post = (b: string, header?: string) =>
        fetch(`${shop.url}/webhooks/weapp-pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(header && { 'weapp-pay-signature': header }) },
          body: b,
        });
      const forgeries = [
        post(body, signatureHeader(body, ['whsec_guessed_by_an_attacker_000000'], now)),
        post(body),
        // Signed with the real secret, then changed: the signature covers the exact bytes.
        post(body.replace('13600', '1'), signatureHeader(body, [secret], now)),
        // A real signature replayed long after: outside the 300-second tolerance.
        post(body, signatureHeader(body, [secret], now - 3600)),
      ];
      for (const res of await Promise.all(forgeries)) expect(res.status).toBe(400);
      const view = await shopOrder(orderId);
      expect(view.order.status).toBe('unpaid');
      expect(view.shipments).toEqual([]);
    });
  });
}
