import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { buildV3Notification } from '../../src/wechat/v3/notify.js';
import { signResponseV3 } from '../../src/wechat/v3/sign.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { lowerCaseHeaders, MERCHANT_PRIVATE_KEY } from '../fixtures/v3-keys.js';
import { CREDENTIALS, type Harness, NOTIFY_PATHS, SECRETS, startHarness, V3_CREDENTIALS } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const PATH = NOTIFY_PATHS.v3;

for (const database of testDatabases()) {
  describe(`API v3 payment notification on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let user: { id: string; openid: string };
    let realSigner: { privateKey: string; serial: string };

    beforeAll(async () => {
      db = await database.openMigrated();
      h = await startHarness(db, { version: 'v3' });
      realSigner = h.paySigner;
      const { openid } = await h.login();
      const row = await db.db
        .selectFrom('users')
        .select('id')
        .where('openid', '=', openid)
        .executeTakeFirstOrThrow();
      user = { id: row.id, openid };
    });
    afterAll(async () => {
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
      const everything = h?.logs.join('\n') ?? '';
      for (const secret of SECRETS) expect(everything).not.toContain(secret);
      await h?.close();
      await db?.close();
    });

    let n = 0;
    /** A pending order, as POST /api/orders saves it (the notification path needs nothing more). */
    async function newOrder(amount = 2800) {
      n += 1;
      return createOrderStore(db.db, createOutbox({ livemode: false })).insert(
        {
          id: randomUUID(),
          userId: user.id,
          openid: user.openid,
          outTradeNo: `V3T${Date.now()}${n}`,
          sku: 'latte',
          quantity: 1,
          description: '拿铁',
          amount,
          currency: 'CNY',
          expiresAt: h.clock.now() + 30 * 60_000,
        },
        h.clock.now(),
      );
    }

    let txn = 4200000000000000000000000000n;
    function transaction(order: { outTradeNo: string; amount: number }, extra: Record<string, unknown> = {}) {
      txn += 1n;
      return {
        appid: CREDENTIALS.appid,
        mchid: CREDENTIALS.mchId,
        out_trade_no: order.outTradeNo,
        transaction_id: txn.toString(),
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        attach: '',
        success_time: '2024-01-01T12:05:30+08:00',
        payer: { openid: user.openid },
        amount: { total: order.amount, payer_total: order.amount, currency: 'CNY', payer_currency: 'CNY' },
        ...extra,
      };
    }

    const nowSeconds = () => Math.floor(h.clock.now() / 1000);

    function notification(
      resource: object,
      options: {
        id?: string;
        eventType?: string;
        originalType?: string;
        signer?: { privateKey: string; serial: string };
        timestamp?: number;
      } = {},
    ) {
      const built = buildV3Notification({
        id: options.id ?? `EV-${randomUUID()}`,
        createTime: '2024-01-01T12:05:31+08:00',
        eventType: options.eventType ?? 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        originalType: options.originalType ?? 'transaction',
        associatedData: options.originalType ?? 'transaction',
        resource,
        apiV3Key: V3_CREDENTIALS.apiV3Key,
        signer: options.signer ?? realSigner,
        timestamp: options.timestamp ?? nowSeconds(),
      });
      return { body: built.body, headers: lowerCaseHeaders(built.headers) };
    }

    /** Re-signs a changed body with the real key, so only what changed is under test. */
    function resigned(body: string) {
      const timestamp = nowSeconds();
      return { body, headers: signResponseV3({ body, ...realSigner, timestamp, nonce: 'n0nce' }) };
    }

    async function post(
      message: { body: string; headers: Record<string, string> },
      contentType = 'application/json',
    ) {
      const res = await fetch(`${h.serviceUrl}${PATH}`, {
        method: 'POST',
        headers: { ...message.headers, 'content-type': contentType },
        body: message.body,
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? (JSON.parse(text) as { code: string }) : undefined };
    }

    const statusOf = async (id: string) =>
      (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;
    const credits = async (id: string) =>
      (
        await db.db
          .selectFrom('order_events')
          .select('data')
          .where('order_id', '=', id)
          .where('type', '=', 'state_changed')
          .execute()
      ).filter((e) => e.data.includes('"to":"PAID"')).length;

    async function snapshot() {
      const out: Record<string, unknown[]> = {};
      for (const t of [
        'orders',
        'order_events',
        'anomalies',
        'wechat_notifications',
        'payment_evidence',
      ] as const)
        out[t] = await db.db.selectFrom(t).selectAll().execute();
      return out;
    }

    it('answers 204 once the order is PAID, and 204 again to a duplicate without a second credit', async () => {
      const order = await newOrder();
      const message = notification(transaction(order), { id: 'EV-duplicate-1' });
      expect(await post(message)).toMatchObject({ status: 204, text: '' });
      expect(await statusOf(order.id)).toBe('PAID');
      const before = await snapshot();
      expect(await post(message)).toMatchObject({ status: 204, text: '' });
      expect(await snapshot()).toEqual(before);
      const logged = await db.db
        .selectFrom('wechat_notifications')
        .selectAll()
        .where('id', '=', 'EV-duplicate-1')
        .execute();
      expect(logged).toMatchObject([
        { event_type: 'TRANSACTION.SUCCESS', outcome: 'paid', out_trade_no: order.outTradeNo },
      ]);
    });

    it('credits exactly once when ten copies arrive at the same moment', async () => {
      const order = await newOrder();
      const message = notification(transaction(order));
      const results = await Promise.all(Array.from({ length: 10 }, () => post(message)));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(204));
      expect(await statusOf(order.id)).toBe('PAID');
      expect(await credits(order.id)).toBe(1);
    });

    it('treats a new notification id for a transaction already recorded as a harmless duplicate', async () => {
      const order = await newOrder();
      const resource = transaction(order);
      expect((await post(notification(resource))).status).toBe(204);
      expect((await post(notification(resource))).status).toBe(204);
      expect(await credits(order.id)).toBe(1);
    });

    const refusals: [
      string,
      () => Promise<{ body: string; headers: Record<string, string> }>,
      number,
      string,
    ][] = [
      [
        'a forged signature (another key)',
        async () =>
          notification(transaction(await newOrder()), {
            signer: { ...realSigner, privateKey: MERCHANT_PRIVATE_KEY },
          }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'an unknown public key id',
        async () =>
          notification(transaction(await newOrder()), {
            signer: { ...realSigner, serial: 'PUB_KEY_ID_0000000000000000000000000000000000' },
          }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'an unknown certificate serial',
        async () =>
          notification(transaction(await newOrder()), {
            signer: { ...realSigner, serial: V3_CREDENTIALS.merchantSerial },
          }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'a timestamp 301 s old',
        async () => notification(transaction(await newOrder()), { timestamp: nowSeconds() - 301 }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'a timestamp 301 s in the future',
        async () => notification(transaction(await newOrder()), { timestamp: nowSeconds() + 301 }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'no Wechatpay headers',
        async () => ({ ...notification(transaction(await newOrder())), headers: {} }),
        401,
        'NOTIFICATION_UNVERIFIED',
      ],
      [
        'the signature probe',
        async () => {
          const message = notification(transaction(await newOrder()));
          return {
            ...message,
            headers: { ...message.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abcdef' },
          };
        },
        400,
        'NOTIFICATION_PROBE',
      ],
      [
        'a tampered ciphertext (signature made over the tampered body)',
        async () =>
          resigned(
            changeResource(notification(transaction(await newOrder())).body, (r) => ({
              ...r,
              ciphertext: flipFirst(r.ciphertext),
            })),
          ),
        400,
        'NOTIFICATION_MALFORMED',
      ],
      [
        'a tampered GCM tag',
        async () =>
          resigned(
            changeResource(notification(transaction(await newOrder())).body, (r) => ({
              ...r,
              ciphertext: flipLastByte(r.ciphertext),
            })),
          ),
        400,
        'NOTIFICATION_MALFORMED',
      ],
      [
        'a wrong associated_data',
        async () =>
          resigned(
            changeResource(notification(transaction(await newOrder())).body, (r) => ({
              ...r,
              associated_data: 'refund',
            })),
          ),
        400,
        'NOTIFICATION_MALFORMED',
      ],
      [
        'a valid notification for another mchid',
        async () => notification(transaction(await newOrder(), { mchid: '1900000110' })),
        400,
        'NOTIFICATION_MISMATCH',
      ],
      [
        'a valid notification for another appid',
        async () => notification(transaction(await newOrder(), { appid: 'wx0000000000000000' })),
        400,
        'NOTIFICATION_MISMATCH',
      ],
    ];

    for (const [what, make, status, code] of refusals) {
      it(`refuses ${what} with ${status} ${code}, and writes nothing`, async () => {
        const message = await make();
        const before = await snapshot();
        const res = await post(message);
        expect(res.status).toBe(status);
        expect(res.json).toMatchObject({ code });
        expect(await snapshot()).toEqual(before);
      });
    }

    it('logs the signature probe at info as a probe', async () => {
      const message = notification(transaction(await newOrder()));
      await post({
        ...message,
        headers: { ...message.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/xyz' },
      });
      const probes = h.logs.map((l) => JSON.parse(l)).filter((l) => l.probe === true);
      expect(probes.length).toBeGreaterThan(0);
      expect(probes[0].level).toBe(30);
    });

    it('refuses a replay of a handled notification once its timestamp is out of the window', async () => {
      const order = await newOrder();
      const message = notification(transaction(order));
      expect((await post(message)).status).toBe(204);
      await h.clock.advance(301_000);
      const before = await snapshot();
      expect(await post(message)).toMatchObject({ status: 401, json: { code: 'NOTIFICATION_UNVERIFIED' } });
      expect(await snapshot()).toEqual(before);
    });

    it('flags an amount mismatch for review and never credits it', async () => {
      const order = await newOrder(2800);
      const res = await post(notification(transaction({ ...order, amount: 1 })));
      expect(res).toMatchObject({ status: 400, json: { code: 'NOTIFICATION_MISMATCH' } });
      expect(await statusOf(order.id)).toBe('REVIEW');
      const anomalies = await db.db
        .selectFrom('anomalies')
        .selectAll()
        .where('order_id', '=', order.id)
        .execute();
      expect(anomalies.map((a) => a.kind)).toEqual(['notify_amount_mismatch']);
    });

    it('flags a currency mismatch for review', async () => {
      const order = await newOrder();
      const res = await post(
        notification(
          transaction(order, { amount: { total: order.amount, payer_total: order.amount, currency: 'USD' } }),
        ),
      );
      expect(res.status).toBe(400);
      expect(await statusOf(order.id)).toBe('REVIEW');
    });

    it('answers 404 and records an anomaly for an order it does not know', async () => {
      const res = await post(notification(transaction({ outTradeNo: 'NO_SUCH_ORDER_V3', amount: 1 })));
      expect(res).toMatchObject({ status: 404, json: { code: 'ORDER_NOT_FOUND' } });
      const anomalies = await db.db
        .selectFrom('anomalies')
        .selectAll()
        .where('ref', '=', 'NO_SUCH_ORDER_V3')
        .execute();
      expect(anomalies).toHaveLength(1);
    });

    it('refuses a body over the size limit with 413 before reading it', async () => {
      const order = await newOrder();
      const message = notification(transaction(order, { attach: 'x'.repeat(70 * 1024) }));
      const res = await post(message);
      expect(res).toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE' } });
      expect(await statusOf(order.id)).toBe('PENDING');
    });

    it('refuses a body that is not JSON by its content type with 415', async () => {
      const order = await newOrder();
      const res = await post(notification(transaction(order)), 'text/xml');
      expect(res).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
      expect(await statusOf(order.id)).toBe('PENDING');
    });

    it('has no v2 notification route without a v2 key (an empty key would let anyone sign)', async () => {
      const res = await fetch(`${h.serviceUrl}${NOTIFY_PATHS.v2}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: '<xml></xml>',
      });
      expect(res.status).toBe(404);
    });
  });
}

function changeResource(
  body: string,
  change: (r: { ciphertext: string; associated_data: string }) => object,
): string {
  const envelope = JSON.parse(body);
  envelope.resource = change(envelope.resource);
  return JSON.stringify(envelope);
}

function flipFirst(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
}

function flipLastByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  return bytes.toString('base64');
}
