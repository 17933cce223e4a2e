/**
 * A shop's backend written by someone else, from docs/service.md alone: plain fetch, literal JSON,
 * its own check of the wx.requestPayment signature as WeChat's 《小程序调起支付》 page describes it.
 * It shares no code with weapp-pay; the harness only starts the service and the simulator.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from './harness.js';

for (const database of testDatabases()) {
  describe(`a shop backend that shares no code with weapp-pay, on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    beforeAll(async () => {
      db = await database.openMigrated();
      h = await startHarness(db);
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
    });

    it('gets a key, logs a user in, creates a payment, has it paid, and reads it PAID', async () => {
      const base = h.serviceUrl;
      const keyRes = await fetch(`${base}/admin/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CREDENTIALS.adminToken}`, 'content-type': 'application/json' },
        body: '{"name":"koa-shop"}',
      });
      expect(keyRes.status).toBe(201);
      const { key } = (await keyRes.json()) as { key: string };
      expect(key.startsWith('wpk_')).toBe(true);
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

      // The phone's wx.login, played at the simulator; the shop's backend exchanges the code.
      const login = await fetch(`${h.simulatorUrl}/sim/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"appid":"${CREDENTIALS.appid}"}`,
      });
      const { code } = (await login.json()) as { code: string };
      const session = await fetch(`${base}/v1/code2session`, {
        method: 'POST',
        headers: auth,
        body: `{"code":"${code}"}`,
      });
      expect(session.status).toBe(200);
      const { openid } = (await session.json()) as { openid: string };

      const idempotencyKey = randomUUID();
      const body = `{"amount":1280,"description":"两杯拿铁","openid":"${openid}","out_trade_no":"KOA_20240101_0001","metadata":{"cart":"c-77"}}`;
      const created = await fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { ...auth, 'idempotency-key': idempotencyKey },
        body,
      });
      expect(created.status).toBe(201);
      const { payment, requestPayment } = (await created.json()) as {
        payment: { id: string; status: string; amount: number; out_trade_no: string; metadata: object };
        requestPayment: Record<string, string>;
      };
      expect(payment).toMatchObject({ status: 'PENDING', amount: 1280, out_trade_no: 'KOA_20240101_0001' });
      expect(payment.metadata).toEqual({ cart: 'c-77' });

      // WeChat's rule for paySign: appId, nonceStr, package, signType, timeStamp sorted, then &key=.
      const signed = `appId=${CREDENTIALS.appid}&nonceStr=${requestPayment.nonceStr}&package=${requestPayment.package}&signType=${requestPayment.signType}&timeStamp=${requestPayment.timeStamp}&key=${CREDENTIALS.key}`;
      expect(requestPayment.signType).toBe('HMAC-SHA256');
      expect(requestPayment.paySign).toBe(
        createHmac('sha256', CREDENTIALS.key).update(signed).digest('hex').toUpperCase(),
      );

      // A network retry of the same request gets the same answer, marked as a replay.
      const retried = await fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { ...auth, 'idempotency-key': idempotencyKey },
        body,
      });
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(((await retried.json()) as { payment: { id: string } }).payment.id).toBe(payment.id);

      const paid = await fetch(`${h.simulatorUrl}/sim/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prepay_id: requestPayment.package!.replace('prepay_id=', ''),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment: requestPayment,
        }),
      });
      expect(paid.status).toBe(200);
      await h.clock.settle();

      const read = await fetch(`${base}/v1/payments?out_trade_no=KOA_20240101_0001`, { headers: auth });
      const { payments } = (await read.json()) as {
        payments: { id: string; status: string; transaction_id: string }[];
      };
      expect(payments).toHaveLength(1);
      expect(payments[0]).toMatchObject({ id: payment.id, status: 'PAID' });
      expect(payments[0]!.transaction_id).toMatch(/^[0-9]{28}$/);
    });
  });
}
