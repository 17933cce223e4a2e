import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { signV2 } from '../../src/wechat/v2/sign.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, paymentNotificationFields, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const SUCCESS =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

for (const database of testDatabases()) {
  describe(`payment notification on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let token: string;
    let openid: string;

    beforeAll(async () => {
      db = await database.openMigrated();
      h = await startHarness(db);
      ({ token, openid } = await h.login());
    });
    afterAll(async () => {
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
      await h?.close();
      await db?.close();
    });

    async function newOrder(sku = 'latte') {
      const res = await h.api('POST', '/api/orders', token, { sku, quantity: 1 });
      return ((await res.json()) as { order: { id: string; outTradeNo: string; amount: number } }).order;
    }

    let txn = 4200000000000000000000000000n;
    function fields(order: { outTradeNo: string; amount: number }, extra: Record<string, string> = {}) {
      txn += 1n;
      return { ...paymentNotificationFields(order, openid, txn.toString()), ...extra };
    }

    async function post(body: string | Buffer, contentType = 'text/xml') {
      const res = await fetch(`${h.serviceUrl}/payment/wxnotify`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      return { status: res.status, text: await res.text() };
    }

    const signed = (f: Record<string, string>) => buildPaymentNotification(f, CREDENTIALS.key, 'HMAC-SHA256');

    const statusOf = async (id: string) =>
      (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;
    const anomaliesOf = (kind: string) =>
      db.db.selectFrom('anomalies').selectAll().where('kind', '=', kind).execute();

    async function snapshot() {
      const tables = ['orders', 'order_events', 'anomalies'] as const;
      const out: Record<string, unknown[]> = {};
      for (const t of tables) out[t] = await db.db.selectFrom(t).selectAll().execute();
      return out;
    }

    it('replies SUCCESS once the order is PAID, and SUCCESS again to a duplicate without a second credit', async () => {
      const order = await newOrder();
      const body = signed(fields(order));
      expect(await post(body)).toEqual({ status: 200, text: SUCCESS });
      expect(await post(body)).toEqual({ status: 200, text: SUCCESS });
      expect(await statusOf(order.id)).toBe('PAID');
      const changes = await db.db
        .selectFrom('order_events')
        .select('id')
        .where('order_id', '=', order.id)
        .where('type', '=', 'state_changed')
        .execute();
      expect(changes).toHaveLength(1);
    });

    it.each([
      [
        'a wrong key',
        (f: Record<string, string>) =>
          buildPaymentNotification(f, 'AnotherKey0123456789abcdefghijkl', 'HMAC-SHA256'),
      ],
      [
        'random hex',
        (f: Record<string, string>) =>
          signed(f).replace(/<sign>.*<\/sign>/, `<sign>${'AB'.repeat(32)}</sign>`),
      ],
      [
        'lower-case hex',
        (f: Record<string, string>) =>
          signed(f).replace(/<sign>(.*)<\/sign>/, (_m, s: string) => `<sign>${s.toLowerCase()}</sign>`),
      ],
      [
        'an empty sign',
        (f: Record<string, string>) => signed(f).replace(/<sign>.*<\/sign>/, '<sign></sign>'),
      ],
      ['no sign', (f: Record<string, string>) => signed(f).replace(/<sign>.*<\/sign>/, '')],
      [
        'an unknown sign_type',
        (f: Record<string, string>) =>
          signed(f).replace('<sign_type>HMAC-SHA256</sign_type>', '<sign_type>SHA1</sign_type>'),
      ],
      [
        'an MD5 downgrade',
        (f: Record<string, string>) => buildPaymentNotification(f, CREDENTIALS.key, 'MD5'),
      ],
    ])('refuses a notification with %s: FAIL, never a 500, no row written', async (_label, forge) => {
      const order = await newOrder();
      const before = await snapshot();
      const reply = await post(forge(fields(order)));
      expect(reply.status).toBe(200);
      expect(reply.text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
      expect(await snapshot()).toEqual(before);
    });

    it('processes a signed message with unknown and empty fields', async () => {
      const order = await newOrder();
      const reply = await post(signed(fields(order, { brand_new_field: 'x', attach: '' })));
      expect(reply.text).toBe(SUCCESS);
    });

    it('refuses a valid signature from another appid or mch_id without changing anything', async () => {
      const order = await newOrder();
      const before = await snapshot();
      for (const extra of [{ appid: 'wx0000000000000000' }, { mch_id: '1999999999' }] as Record<
        string,
        string
      >[]) {
        const reply = await post(signed(fields(order, extra)));
        expect(reply.text).toContain('FAIL');
      }
      expect(await snapshot()).toEqual(before);
    });

    it('flags an amount mismatch for review with one anomaly however often WeChat retries', async () => {
      const order = await newOrder();
      const body = signed(fields(order, { total_fee: '1', cash_fee: '1' }));
      for (let i = 0; i < 3; i++) expect((await post(body)).text).toContain('FAIL');
      expect(await statusOf(order.id)).toBe('REVIEW');
      const anomalies = await db.db
        .selectFrom('anomalies')
        .selectAll()
        .where('order_id', '=', order.id)
        .execute();
      expect(anomalies).toHaveLength(1);

      const other = await newOrder();
      expect((await post(signed(fields(other, { fee_type: 'USD' })))).text).toContain('FAIL');
    });

    it('credits a coupon order normally: total_fee is compared, not cash_fee', async () => {
      const order = await newOrder();
      const reply = await post(
        signed(fields(order, { cash_fee: '1', coupon_fee: String(order.amount - 1) })),
      );
      expect(reply.text).toBe(SUCCESS);
    });

    it('records an anomaly and replies FAIL for an unknown out_trade_no, metacharacters included', async () => {
      for (const outTradeNo of ["x'; DROP TABLE orders;--", '<script>1</script>']) {
        const reply = await post(signed(fields({ outTradeNo, amount: 1 })));
        expect(reply.text).toContain('FAIL');
      }
      const anomalies = await anomaliesOf('unknown_out_trade_no');
      expect(anomalies.map((a) => a.ref)).toEqual(
        expect.arrayContaining(["x'; DROP TABLE orders;--", '<script>1</script>']),
      );
    });

    it.each([
      'total_fee',
      'transaction_id',
      'out_trade_no',
      'appid',
      'mch_id',
      'openid',
      'time_end',
      'result_code',
      'return_code',
      'cash_fee',
      'nonce_str',
    ])('refuses a notification without %s', async (field) => {
      const order = await newOrder();
      const f: Record<string, string> = fields(order);
      delete f[field];
      const before = await snapshot();
      expect((await post(signed(f))).text).toContain('FAIL');
      expect(await snapshot()).toEqual(before);
    });

    it.each(['100.0', '1e2', '0x64', ' 100', '１００', '-1', '0', '12345678901234567890'])(
      'refuses total_fee %j',
      async (totalFee) => {
        const order = await newOrder();
        const before = await snapshot();
        expect((await post(signed(fields(order, { total_fee: totalFee })))).text).toContain('FAIL');
        expect(await snapshot()).toEqual(before);
      },
    );

    it('refuses XXE, entity expansion, repeated tags and non-UTF-8 before parsing', async () => {
      const order = await newOrder();
      const good = signed(fields(order));
      const before = await snapshot();
      const attacks = [
        `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${good}`,
        good.replace('<total_fee>', '<total_fee>&#65;'.repeat(1)),
        good.replace('</xml>', `<total_fee>${order.amount * 100}</total_fee></xml>`),
        good.replace('<xml>', '<xml><nested><a>1</a></nested>'),
        good.slice(0, -10),
      ];
      for (const attack of attacks) expect((await post(attack)).text).toContain('FAIL');
      const latin1 = Buffer.concat([
        Buffer.from(good.replace('</xml>', '<attach>')),
        Buffer.from([0xe9, 0xff]),
        Buffer.from('</attach></xml>'),
      ]);
      expect((await post(latin1)).text).toContain('FAIL');
      expect((await post(`\uFEFF${good}`)).text).toContain('FAIL');
      expect((await post(good, 'application/json')).status).toBe(415);
      expect((await post(`<xml>${'<a>1</a>'.repeat(10_000)}</xml>`)).status).toBe(413);
      expect(await snapshot()).toEqual(before);
    });

    it('makes a closed order PAID when its payment arrives late, with an alert', async () => {
      const order = await newOrder();
      await h.api('POST', `/api/orders/${order.id}/close`, token);
      expect((await post(signed(fields(order)))).text).toBe(SUCCESS);
      expect(await statusOf(order.id)).toBe('PAID');
      const alert = await anomaliesOf('paid_after_close');
      expect(alert.map((a) => a.order_id)).toContain(order.id);
    });

    it('refuses a second transaction_id for a paid order, and one transaction_id for two orders', async () => {
      const first = await newOrder();
      const second = await newOrder();
      const paid = fields(first);
      expect((await post(signed(paid))).text).toBe(SUCCESS);
      const again = await post(signed(fields(first)));
      expect(again.status).toBe(200);
      expect(again.text).toContain('FAIL');
      expect((await post(signed({ ...fields(second), transaction_id: paid.transaction_id }))).text).toContain(
        'FAIL',
      );
      expect(await statusOf(second.id)).toBe('PENDING');
      const conflicts = await anomaliesOf('transaction_conflict');
      expect(conflicts).toHaveLength(2);
    });

    it('keeps the signature over exactly what was received', () => {
      // Guards the helper the tests above rely on: the XML carries a valid HMAC over its fields.
      const f = fields({ outTradeNo: 'ORDER_X1', amount: 1 });
      expect(signed(f)).toContain(
        `<sign>${signV2({ ...f, sign_type: 'HMAC-SHA256' }, CREDENTIALS.key, 'HMAC-SHA256')}</sign>`,
      );
    });
  });
}
