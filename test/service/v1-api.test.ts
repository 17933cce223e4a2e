/**
 * The /v1 server API as a shop's backend uses it: through the running service and the simulator
 * over HTTP, on both databases and both API versions. Keys come from the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import { verifyRequestPaymentParams } from '../../src/wechat/v2/pay-params.js';
import { verifyV3PaySign } from '../../src/wechat/v3/pay-params.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { MERCHANT_PUBLIC_KEY } from '../fixtures/v3-keys.js';
import { API_VERSIONS, CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

interface Payment {
  id: string;
  object: string;
  amount: number;
  status: string;
  out_trade_no: string;
  openid: string;
  metadata: Record<string, string>;
  attach: string | null;
  transaction_id: string | null;
  refunded_amount: number;
  refunds: { out_refund_no: string; amount: number; status: string }[];
  api_key_id: string | null;
}
interface RequestPayment {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'MD5' | 'HMAC-SHA256' | 'RSA';
  paySign: string;
}

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

for (const version of API_VERSIONS)
  for (const database of testDatabases()) {
    describe(`the /v1 server API on ${database.name}, API ${version}`, () => {
      let db: TestDbHandle;
      let h: Harness;
      let key: string;
      let keyId: string;
      /** The payer, as the shop's backend learns it: wx.login's code through /v1/code2session. */
      let OPENID: string;
      let n = 0;

      beforeAll(async () => {
        db = await database.openMigrated();
        const certs =
          version === 'v2' ? await generateTestCertificates({ mchId: CREDENTIALS.mchId }) : undefined;
        h = await startHarness(db, {
          version,
          ...(certs && { env: { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey } }),
          behaviour: { refundDelaySeconds: 60 },
        });
        const created = await h.api('POST', '/admin/api-keys', undefined, { name: 'shop-backend' }, admin);
        expect(created.status).toBe(201);
        const body = (await created.json()) as { key: string; apiKey: { id: string; lastFour: string } };
        key = body.key;
        keyId = body.apiKey.id;
        expect(body.apiKey.lastFour).toBe(key.slice(-4));
        const { code } = (await h.sim('/sim/login', { appid: CREDENTIALS.appid })).json as { code: string };
        const session = await h.api('POST', '/v1/code2session', key, { code });
        OPENID = ((await session.json()) as { openid: string }).openid;
      });
      afterAll(async () => {
        expect(await moneyInvariantViolations(db.db)).toEqual([]);
        await h?.close();
        await db?.close();
      });

      const v1 = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        h.api(method, path, key, body, headers);
      const newKey = () => ({ 'idempotency-key': `k-${version}-${++n}` });
      async function create(body: object, headers = newKey()) {
        const res = await v1('POST', '/v1/payments', body, headers);
        const text = await res.text();
        return {
          status: res.status,
          text,
          json: JSON.parse(text) as { payment: Payment; requestPayment: RequestPayment; code?: string },
        };
      }
      const orderCount = async () =>
        Number(
          (await db.db.selectFrom('orders').select(db.db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
        );

      async function pay(requestPayment: RequestPayment) {
        const paid = await h.sim('/sim/pay', {
          prepay_id: requestPayment.package.slice('prepay_id='.length),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment: requestPayment,
        });
        expect(paid.status).toBe(200);
        await h.clock.settle();
      }

      it('creates a payment with a key, is paid at the simulator cashier, and reads PAID', async () => {
        const { status, json } = await create({
          amount: 2800,
          description: '拿铁 大杯',
          openid: OPENID,
          attach: 'cart=42',
          metadata: { shop_order: 'SO-1001' },
        });
        expect(status).toBe(201);
        const { payment, requestPayment } = json;
        expect(payment).toMatchObject({
          object: 'payment',
          amount: 2800,
          status: 'PENDING',
          openid: OPENID,
          attach: 'cart=42',
          metadata: { shop_order: 'SO-1001' },
          api_key_id: keyId,
        });
        expect(Object.keys(requestPayment).sort()).toEqual([
          'nonceStr',
          'package',
          'paySign',
          'signType',
          'timeStamp',
        ]);
        const verified =
          version === 'v2'
            ? verifyRequestPaymentParams(requestPayment, CREDENTIALS.appid, CREDENTIALS.key)
            : verifyV3PaySign({ appid: CREDENTIALS.appid, ...requestPayment }, MERCHANT_PUBLIC_KEY);
        expect(verified).toBe(true);
        const atWechat = (await h.sim('/sim/orders')).json as {
          orders: { out_trade_no: string; attach?: string }[];
        };
        expect(atWechat.orders.find((o) => o.out_trade_no === payment.out_trade_no)?.attach).toBe('cart=42');

        await pay(requestPayment);
        const read = await v1('GET', `/v1/payments/${payment.id}`);
        const paid = ((await read.json()) as { payment: Payment }).payment;
        expect(paid.status).toBe('PAID');
        expect(paid.transaction_id).toMatch(/^[0-9]{28}$/);
        const byNo = await v1('GET', `/v1/payments?out_trade_no=${payment.out_trade_no}`);
        expect(((await byNo.json()) as { payments: Payment[] }).payments.map((p) => p.id)).toEqual([
          payment.id,
        ]);
        const none = await v1('GET', '/v1/payments?out_trade_no=NOSUCHORDER1');
        expect(await none.json()).toEqual({ payments: [] });
        expect((await v1('GET', '/v1/payments/no-such-payment')).status).toBe(404);
      });

      it('replays the stored answer for the same Idempotency-Key, and refuses another body or no key', async () => {
        const headers = newKey();
        const body = { amount: 1, description: '咖啡', openid: OPENID };
        const before = await orderCount();
        const first = await create(body, headers);
        const again = await v1(
          'POST',
          '/v1/payments',
          { openid: OPENID, description: '咖啡', amount: 1 },
          headers,
        );
        expect(again.status).toBe(201);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(await again.text()).toBe(first.text);
        const other = await create({ ...body, amount: 2 }, headers);
        expect([other.status, other.json.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
        const noKey = await v1('POST', '/v1/payments', body);
        expect(noKey.status).toBe(400);
        expect(((await noKey.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_INVALID');
        expect(await orderCount()).toBe(before + 1);
      });

      it('refuses a wrong, a malformed, a session or admin token, and a revoked key, with 401', async () => {
        const body = { amount: 1, description: 'x', openid: OPENID };
        const codeWith = async (token: string | undefined) => {
          const res = await h.api('POST', '/v1/payments', token, body, newKey());
          return [res.status, ((await res.json()) as { code: string }).code];
        };
        expect(await codeWith(undefined)).toEqual([401, 'UNAUTHORIZED']);
        expect(await codeWith(`wpk_${'A'.repeat(32)}`)).toEqual([401, 'UNAUTHORIZED']);
        expect(await codeWith(`${key}x`)).toEqual([401, 'UNAUTHORIZED']);
        expect(await codeWith((await h.login()).token)).toEqual([401, 'UNAUTHORIZED']);
        expect(await codeWith(CREDENTIALS.adminToken)).toEqual([401, 'UNAUTHORIZED']);

        const spare = (await (
          await h.api('POST', '/admin/api-keys', undefined, { name: 'spare' }, admin)
        ).json()) as {
          key: string;
          apiKey: { id: string };
        };
        expect(await codeWith(spare.key)).toEqual([201, undefined]);
        const revoked = await h.api(
          'POST',
          `/admin/api-keys/${spare.apiKey.id}/revoke`,
          undefined,
          undefined,
          admin,
        );
        expect(revoked.status).toBe(200);
        const [status, code] = await codeWith(spare.key);
        expect([status, code]).toEqual([401, 'API_KEY_REVOKED']);
        const listed = (await (
          await h.api('GET', '/admin/api-keys', undefined, undefined, admin)
        ).json()) as {
          apiKeys: { id: string; revokedAt: string | null; lastUsedAt: string | null }[];
        };
        expect(listed.apiKeys.find((k) => k.id === spare.apiKey.id)?.revokedAt).toEqual(expect.any(String));
        expect(listed.apiKeys.find((k) => k.id === keyId)?.lastUsedAt).toEqual(expect.any(String));
      });

      it('refuses bad bodies with 400 and changes nothing', async () => {
        const good = { amount: 100, description: '咖啡', openid: OPENID };
        const before = await orderCount();
        const cases: [object, string][] = [
          [{ ...good, amount: 0 }, 'VALIDATION_ERROR'],
          [{ ...good, amount: 1.5 }, 'VALIDATION_ERROR'],
          [{ ...good, amount: '100' }, 'VALIDATION_ERROR'],
          [{ ...good, amount: 1_000_001 }, 'AMOUNT_OUT_OF_RANGE'],
          [{ ...good, description: '测'.repeat(43) }, 'VALIDATION_ERROR'],
          [{ ...good, description: ' ' }, 'VALIDATION_ERROR'],
          [{ amount: 1, description: 'x' }, 'VALIDATION_ERROR'],
          [{ ...good, openid: 'not an openid' }, 'VALIDATION_ERROR'],
          [{ ...good, out_trade_no: 'abc' }, 'VALIDATION_ERROR'],
          [{ ...good, out_trade_no: 'has space1' }, 'VALIDATION_ERROR'],
          [{ ...good, out_trade_no: 'x'.repeat(33) }, 'VALIDATION_ERROR'],
          [{ ...good, attach: '测'.repeat(43) }, 'VALIDATION_ERROR'],
          [
            { ...good, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) },
            'VALIDATION_ERROR',
          ],
          [{ ...good, metadata: { ['k'.repeat(41)]: 'v' } }, 'VALIDATION_ERROR'],
          [{ ...good, metadata: { a: 1 } }, 'VALIDATION_ERROR'],
          [{ ...good, expires_in: 59 }, 'VALIDATION_ERROR'],
          [{ ...good, expires_in: 7 * 86_400 + 1 }, 'VALIDATION_ERROR'],
          [{ ...good, notify: 'ftp://shop.example/x' }, 'VALIDATION_ERROR'],
          [{ ...good, notify: 'not a url' }, 'VALIDATION_ERROR'],
          [{ ...good, out_trade_number: 'SHOP-0001' }, 'VALIDATION_ERROR'],
        ];
        for (const [body, code] of cases) {
          const res = await create(body);
          expect([res.status, res.json.code], JSON.stringify(body)).toEqual([400, code]);
        }
        expect(await orderCount()).toBe(before);
      });

      it('takes the shop out_trade_no once, and answers 409 when it is taken', async () => {
        const outTradeNo = `SHOP-${version}-0001*`;
        const first = await create({
          amount: 5,
          description: 'x',
          openid: OPENID,
          out_trade_no: outTradeNo,
          expires_in: 600,
        });
        expect(first.status).toBe(201);
        expect(first.json.payment.out_trade_no).toBe(outTradeNo);
        expect(
          Date.parse((first.json.payment as unknown as { expires_at: string }).expires_at) - h.clock.now(),
        ).toBe(600_000);
        const before = await orderCount();
        const taken = await create({ amount: 6, description: 'y', openid: OPENID, out_trade_no: outTradeNo });
        expect([taken.status, taken.json.code]).toEqual([409, 'OUT_TRADE_NO_TAKEN']);
        expect(await orderCount()).toBe(before);
        const pipe = await create({
          amount: 5,
          description: 'x',
          openid: OPENID,
          out_trade_no: `SHOP|${version}|02`,
        });
        expect(pipe.status).toBe(version === 'v2' ? 201 : 400);
      });

      it('refunds through /v1 with an Idempotency-Key, replays, and closes a pending payment', async () => {
        const { json } = await create({ amount: 2800, description: '拿铁', openid: OPENID });
        await pay(json.requestPayment);
        const headers = newKey();
        const refund = await v1(
          'POST',
          `/v1/payments/${json.payment.id}/refunds`,
          { amount: 800, reason: '少一杯' },
          headers,
        );
        expect(refund.status).toBe(201);
        const text = await refund.text();
        const body = JSON.parse(text) as { refund: { status: string; amount: number }; payment: Payment };
        expect(body.refund).toMatchObject({ object: 'refund', amount: 800, status: 'PROCESSING' });
        expect(body.payment.refunded_amount).toBe(800);
        const again = await v1(
          'POST',
          `/v1/payments/${json.payment.id}/refunds`,
          { amount: 800, reason: '少一杯' },
          headers,
        );
        expect(await again.text()).toBe(text);
        const tooMuch = await v1(
          'POST',
          `/v1/payments/${json.payment.id}/refunds`,
          { amount: 2001, reason: '' },
          newKey(),
        );
        expect(tooMuch.status).toBe(409);
        await h.clock.advance(61_000);
        await h.clock.settle();
        // API v3 settles refunds by the refund reconciler's query (its refund events change nothing yet).
        await h.service.refundReconciler.runOnce();
        const read = (
          (await (await v1('GET', `/v1/payments/${json.payment.id}`)).json()) as { payment: Payment }
        ).payment;
        expect(read.status).toBe('PARTIALLY_REFUNDED');
        expect(read.refunds).toMatchObject([{ amount: 800, status: 'SUCCESS' }]);

        const pending = await create({ amount: 3, description: 'z', openid: OPENID });
        const closed = await v1('POST', `/v1/payments/${pending.json.payment.id}/close`);
        expect(((await closed.json()) as { payment: Payment }).payment.status).toBe('CLOSED');
        const paidClose = await v1('POST', `/v1/payments/${json.payment.id}/close`);
        expect(paidClose.status).toBe(409);
      });

      it('exchanges a wx.login code for the openid, keeping the session_key, and refuses a used code', async () => {
        const { json } = await h.sim('/sim/login', { appid: CREDENTIALS.appid });
        const { code, openid } = json as { code: string; openid: string };
        const res = await v1('POST', '/v1/code2session', { code });
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(JSON.parse(text)).toMatchObject({ openid });
        expect(text).not.toMatch(/session_?key/i);
        const user = await db.db
          .selectFrom('users')
          .select('id')
          .where('openid', '=', openid)
          .executeTakeFirst();
        expect(user).toBeDefined();
        const used = await v1('POST', '/v1/code2session', { code });
        expect([used.status, ((await used.json()) as { code: string }).code]).toEqual([
          401,
          'INVALID_LOGIN_CODE',
        ]);
      });

      it("logs every /v1 request with the key's id, never the key", async () => {
        await v1('GET', '/v1/payments?out_trade_no=ANYTHING1');
        const logs = h.logs.join('');
        expect(logs).toContain(`"apiKeyId":"${keyId}"`);
        expect(logs).not.toContain(key);
        expect(logs).not.toContain(key.slice(4));
      });
    });
  }
