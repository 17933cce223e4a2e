import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CATALOGUE, CREDENTIALS } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const ORDERS = 200;
const COPIES = 10;
const IN_FLIGHT = 8;

for (const database of testDatabases()) {
  describe(`duplicate notifications across two instances on ${database.name}`, () => {
    let db: TestDbHandle;
    const instances: Service[] = [];

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
      for (let i = 0; i < 2; i++) {
        // Each instance opens the database itself, as two processes behind a load balancer would.
        const handle = i === 0 ? db : await openDatabase(db.url);
        instances.push(
          await createService({
            config: config.config,
            catalogue: catalogue.catalogue,
            log: createLogger('silent'),
            database: handle,
          }),
        );
      }
    });
    afterAll(async () => {
      for (const s of instances) await s.close();
      if (instances[1]) await instances[1].database.close();
      await db?.close();
    });

    it(`credits each of ${ORDERS} orders exactly once when ${COPIES} copies arrive at once, and answers every copy SUCCESS`, async () => {
      const users = createUserStore(db.db);
      const orders = createOrderStore(db.db);
      const now = Date.now();
      const user = await users.upsertByOpenid(
        { openid: 'oConcurrencyTestUser000000001', unionid: null },
        now,
      );
      const bodies: { id: string; body: string }[] = [];
      for (let i = 0; i < ORDERS; i++) {
        const order = await orders.insert(
          {
            id: randomUUID(),
            userId: user.id,
            openid: user.openid,
            outTradeNo: `DUP${String(i).padStart(6, '0')}${database.name}`,
            sku: 'coffee',
            quantity: 1,
            description: '美式咖啡',
            amount: 1,
            currency: 'CNY',
            expiresAt: now + 1_800_000,
          },
          now,
        );
        const body = buildPaymentNotification(
          {
            return_code: 'SUCCESS',
            result_code: 'SUCCESS',
            appid: CREDENTIALS.appid,
            mch_id: CREDENTIALS.mchId,
            nonce_str: `n${i}`,
            openid: user.openid,
            trade_type: 'JSAPI',
            bank_type: 'OTHERS',
            total_fee: '1',
            cash_fee: '1',
            fee_type: 'CNY',
            transaction_id: `42000000${String(i).padStart(20, '0')}`,
            out_trade_no: order.outTradeNo,
            time_end: '20240101120530',
          },
          CREDENTIALS.key,
          'HMAC-SHA256',
        );
        bodies.push({ id: order.id, body });
      }

      const replies: string[] = [];
      const deliver = async ({ body }: { body: string }) => {
        const copies = Array.from({ length: COPIES }, (_, c) =>
          instances[c % 2]!.app.inject({
            method: 'POST',
            url: '/payment/wxnotify',
            headers: { 'content-type': 'text/xml' },
            payload: body,
          }),
        );
        for (const res of await Promise.all(copies)) replies.push(`${res.statusCode} ${res.body}`);
      };
      // Several orders in flight at once, each with its ten concurrent copies.
      for (let i = 0; i < bodies.length; i += IN_FLIGHT)
        await Promise.all(bodies.slice(i, i + IN_FLIGHT).map(deliver));

      const success =
        '200 <xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
      expect(replies.filter((r) => r !== success)).toEqual([]);
      expect(replies).toHaveLength(ORDERS * COPIES);
      const paid = await db.db.selectFrom('orders').select('id').where('status', '=', 'PAID').execute();
      expect(paid).toHaveLength(ORDERS);
      const credits = await db.db
        .selectFrom('order_events')
        .select('order_id')
        .where('type', '=', 'state_changed')
        .execute();
      expect(credits).toHaveLength(ORDERS);
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
    }, 180_000);
  });
}
