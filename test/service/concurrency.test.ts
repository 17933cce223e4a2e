import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createUserStore } from '../../src/users/user-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { buildV3Notification } from '../../src/wechat/v3/notify.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { PLATFORM_PUBLIC_KEY_ID } from '../fixtures/v3-keys.js';
import {
  API_VERSIONS,
  type ApiVersion,
  CATALOGUE,
  CREDENTIALS,
  NOTIFY_PATHS,
  V3_CREDENTIALS,
  v3Env,
} from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const ORDERS = 200;
const COPIES = 10;
const IN_FLIGHT = 8;

interface Payment {
  outTradeNo: string;
  transactionId: string;
  openid: string;
}

/** One payment's notification, as each API version's WeChat sends it (signed at `Date.now()`). */
const NOTIFICATIONS: Record<ApiVersion, (p: Payment) => { body: string; headers: Record<string, string> }> = {
  v2: (p) => ({
    headers: { 'content-type': 'text/xml' },
    body: buildPaymentNotification(
      {
        return_code: 'SUCCESS',
        result_code: 'SUCCESS',
        appid: CREDENTIALS.appid,
        mch_id: CREDENTIALS.mchId,
        nonce_str: `n${p.transactionId.slice(-6)}`,
        openid: p.openid,
        trade_type: 'JSAPI',
        bank_type: 'OTHERS',
        total_fee: '1',
        cash_fee: '1',
        fee_type: 'CNY',
        transaction_id: p.transactionId,
        out_trade_no: p.outTradeNo,
        time_end: '20240101120530',
      },
      CREDENTIALS.key,
      'HMAC-SHA256',
    ),
  }),
  v3: (p) => {
    const built = buildV3Notification({
      id: `EV-${p.transactionId}`,
      createTime: '2024-01-01T12:05:31+08:00',
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      associatedData: 'transaction',
      resource: {
        appid: CREDENTIALS.appid,
        mchid: CREDENTIALS.mchId,
        out_trade_no: p.outTradeNo,
        transaction_id: p.transactionId,
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        success_time: '2024-01-01T12:05:30+08:00',
        payer: { openid: p.openid },
        amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
      },
      apiV3Key: V3_CREDENTIALS.apiV3Key,
      signer: { privateKey: V3_CREDENTIALS.payPrivateKey, serial: PLATFORM_PUBLIC_KEY_ID },
      timestamp: Math.floor(Date.now() / 1000),
    });
    return { body: built.body, headers: { ...built.headers, 'content-type': 'application/json' } };
  },
};

const SUCCESS: Record<ApiVersion, string> = {
  v2: '200 <xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
  v3: '204 ',
};

for (const version of API_VERSIONS)
  for (const database of testDatabases()) {
    describe(`duplicate notifications across two instances on ${database.name}, API ${version}`, () => {
      let db: TestDbHandle;
      const instances: Service[] = [];

      beforeAll(async () => {
        db = await database.openMigrated();
        const config = loadConfig({
          WECHAT_APPID: CREDENTIALS.appid,
          WECHAT_SECRET: CREDENTIALS.secret,
          WECHAT_MCHID: CREDENTIALS.mchId,
          ...(version === 'v3' ? v3Env(PLATFORM_PUBLIC_KEY_ID) : { WECHAT_MCH_KEY: CREDENTIALS.key }),
          WECHAT_NOTIFY_URL: `http://127.0.0.1:9${NOTIFY_PATHS[version]}`,
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
        const orders = createOrderStore(db.db, createOutbox({ livemode: false }));
        const now = Date.now();
        const user = await users.upsertByOpenid(
          { openid: 'oConcurrencyTestUser000000001', unionid: null },
          now,
        );
        const bodies: { id: string; body: string; headers: Record<string, string> }[] = [];
        for (let i = 0; i < ORDERS; i++) {
          const order = await orders.insert(
            {
              id: randomUUID(),
              userId: user.id,
              openid: user.openid,
              outTradeNo: `DUP${String(i).padStart(6, '0')}${database.name}${version}`,
              sku: 'coffee',
              quantity: 1,
              description: '美式咖啡',
              amount: 1,
              currency: 'CNY',
              expiresAt: now + 1_800_000,
            },
            now,
          );
          const message = NOTIFICATIONS[version]({
            outTradeNo: order.outTradeNo,
            transactionId: `42000000${String(i).padStart(20, '0')}`,
            openid: user.openid,
          });
          bodies.push({ id: order.id, ...message });
        }

        const replies: string[] = [];
        const deliver = async ({ body, headers }: { body: string; headers: Record<string, string> }) => {
          const copies = Array.from({ length: COPIES }, (_, c) =>
            instances[c % 2]!.app.inject({
              method: 'POST',
              url: NOTIFY_PATHS[version],
              headers,
              payload: body,
            }),
          );
          for (const res of await Promise.all(copies)) replies.push(`${res.statusCode} ${res.body}`);
        };
        // Several orders in flight at once, each with its ten concurrent copies.
        for (let i = 0; i < bodies.length; i += IN_FLIGHT)
          await Promise.all(bodies.slice(i, i + IN_FLIGHT).map(deliver));

        expect(replies.filter((r) => r !== SUCCESS[version])).toEqual([]);
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
