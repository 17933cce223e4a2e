import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { createPrng } from '../crash/prng.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CATALOGUE, CREDENTIALS, paymentNotificationFields } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const ORDERS = 300;
/** Roughly WeChat's worst day: 80% unique, 15% duplicates (some at the same moment), 5% forged. */
const DUPLICATE_SHARE = 0.15;
const FORGED_SHARE = 0.05;
const SUCCESS =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

/**
 * A flood of notifications at one service: every order's genuine notification, copies of some
 * (several at once), and forgeries signed with another key for orders that were never paid.
 * Credits equal the genuine notifications exactly, every forgery is refused, and replies stay fast.
 */
for (const database of testDatabases()) {
  describe(`a flood of notifications on ${database.name}`, () => {
    let db: TestDbHandle;
    let service: Service;

    beforeAll(async () => {
      db = await database.openMigrated();
      const config = loadConfig({
        WECHAT_APPID: CREDENTIALS.appid,
        WECHAT_SECRET: CREDENTIALS.secret,
        WECHAT_MCHID: CREDENTIALS.mchId,
        WECHAT_MCH_KEY: CREDENTIALS.key,
        WECHAT_NOTIFY_URL: 'http://127.0.0.1:9/payment/wxnotify',
        WECHAT_PAY_BASE_URL: 'http://127.0.0.1:9',
        WECHAT_API_BASE_URL: 'http://127.0.0.1:9',
      });
      const catalogue = parseCatalogue(CATALOGUE);
      if (!config.ok || !catalogue.ok) throw new Error('test configuration is invalid');
      service = await createService({
        config: config.config,
        catalogue: catalogue.catalogue,
        log: createLogger('silent'),
        database: db,
      });
    });
    afterAll(async () => {
      await service?.close();
      await db?.close();
    });

    it(`credits exactly the genuine notifications among ${ORDERS} orders' worth of duplicates and forgeries, replying within a second`, async () => {
      const rng = createPrng(7);
      const now = Date.now();
      const user = await createUserStore(db.db).upsertByOpenid(
        { openid: 'oFloodTestUser00000000000001', unionid: null },
        now,
      );
      const orders = createOrderStore(db.db, createOutbox({ livemode: false }));
      const messages: { body: string; forged: boolean; outTradeNo: string }[] = [];
      const forgedOrders = new Set<string>();
      for (let i = 0; i < ORDERS; i++) {
        const order = await orders.insert(
          {
            id: randomUUID(),
            userId: user.id,
            openid: user.openid,
            outTradeNo: `FLD${String(i).padStart(6, '0')}${database.name}`,
            sku: 'coffee',
            quantity: 1,
            description: '美式咖啡',
            amount: 1,
            currency: 'CNY',
            expiresAt: now + 1_800_000,
          },
          now,
        );
        const fields = paymentNotificationFields(order, user.openid, `42000${String(i).padStart(23, '0')}`);
        if (rng.chance(FORGED_SHARE)) {
          // Never paid: a forger's notification for it, signed with a key of their own.
          forgedOrders.add(order.outTradeNo);
          const forged = buildPaymentNotification(fields, 'ForgedKey0123456789abcdefghijklm', 'HMAC-SHA256');
          messages.push({ body: forged, forged: true, outTradeNo: order.outTradeNo });
          continue;
        }
        const genuine = buildPaymentNotification(fields, CREDENTIALS.key, 'HMAC-SHA256');
        const copies = rng.chance(DUPLICATE_SHARE / (1 - FORGED_SHARE)) ? rng.int(1, 3) : 0;
        for (let c = 0; c <= copies; c++)
          messages.push({ body: genuine, forged: false, outTradeNo: order.outTradeNo });
      }
      // Shuffled, then sent in bursts of 20 at once: copies of one notification often share a burst.
      for (let i = messages.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [messages[i], messages[j]] = [
          messages[j] as (typeof messages)[number],
          messages[i] as (typeof messages)[number],
        ];
      }
      const latencies: number[] = [];
      const replies: { forged: boolean; status: number; body: string }[] = [];
      for (let i = 0; i < messages.length; i += 20) {
        await Promise.all(
          messages.slice(i, i + 20).map(async (m) => {
            const started = performance.now();
            const res = await service.app.inject({
              method: 'POST',
              url: '/payment/wxnotify',
              headers: { 'content-type': 'text/xml' },
              payload: m.body,
            });
            latencies.push(performance.now() - started);
            replies.push({ forged: m.forged, status: res.statusCode, body: res.body });
          }),
        );
      }

      expect(forgedOrders.size).toBeGreaterThan(0);
      expect(messages.length - ORDERS).toBeGreaterThan(ORDERS * 0.1);
      expect(replies.filter((r) => !r.forged && r.body !== SUCCESS)).toEqual([]);
      expect(replies.filter((r) => r.forged && (r.body.includes('SUCCESS') || r.status >= 500))).toEqual([]);
      const rows = await db.db.selectFrom('orders').select(['out_trade_no', 'status']).execute();
      const paid = rows.filter((r) => r.status === 'PAID').map((r) => r.out_trade_no);
      expect(paid).toHaveLength(ORDERS - forgedOrders.size);
      expect(paid.filter((o) => forgedOrders.has(o))).toEqual([]);
      const credits = await db.db
        .selectFrom('order_events')
        .select('order_id')
        .where('type', '=', 'state_changed')
        .execute();
      expect(credits).toHaveLength(ORDERS - forgedOrders.size);
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.floor(latencies.length * 0.99)] as number;
      expect(p99).toBeLessThan(1000);
    }, 120_000);
  });
}
