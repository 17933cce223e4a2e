import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import type { V2SignType } from '../../src/wechat/v2/sign.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const SUCCESS =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

/**
 * What a notification leaves behind besides the order's status: the evidence of every verified
 * payment, and the algorithm each order is verified with (the one it was placed under).
 */
for (const database of testDatabases()) {
  describe(`payment evidence and per-order sign type on ${database.name}`, () => {
    let db: TestDbHandle;
    let txn = 4200000000000000000000000000n;

    beforeAll(async () => {
      db = await database.openMigrated();
    });
    afterAll(async () => {
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
      await db?.close();
    });

    type Placed = { id: string; outTradeNo: string; amount: number };

    /** Orders placed by a service configured with `signType`, which is then stopped. */
    async function placeOrders(signType: V2SignType, count: number): Promise<Placed[]> {
      const h = await startHarness(db, { env: { WECHAT_SIGN_TYPE: signType } });
      try {
        const { token } = await h.login();
        const placed: Placed[] = [];
        for (let i = 0; i < count; i++) {
          const res = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 });
          placed.push(((await res.json()) as { order: Placed }).order);
        }
        return placed;
      } finally {
        await h.close();
      }
    }

    function notification(order: Placed, signType: V2SignType, extra: Record<string, string> = {}) {
      txn += 1n;
      const fields = {
        return_code: 'SUCCESS',
        result_code: 'SUCCESS',
        appid: CREDENTIALS.appid,
        mch_id: CREDENTIALS.mchId,
        nonce_str: 'n0nce',
        openid: 'o-payer',
        trade_type: 'JSAPI',
        bank_type: 'OTHERS',
        total_fee: String(order.amount),
        cash_fee: String(order.amount - 300),
        coupon_fee: '300',
        fee_type: 'CNY',
        transaction_id: txn.toString(),
        out_trade_no: order.outTradeNo,
        time_end: '20240101120530',
        ...extra,
      };
      return {
        transactionId: fields.transaction_id,
        body: buildPaymentNotification(fields, CREDENTIALS.key, signType),
      };
    }

    async function post(h: Harness, body: string) {
      const res = await fetch(`${h.serviceUrl}/payment/wxnotify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body,
      });
      return res.text();
    }

    const statusOf = async (id: string) =>
      (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
        .status;
    const evidenceOf = (id: string) =>
      db.db.selectFrom('payment_evidence').selectAll().where('order_id', '=', id).execute();

    it("verifies an order's notification with the algorithm it was placed under, after WECHAT_SIGN_TYPE changed", async () => {
      const [old, another] = await placeOrders('MD5', 2);
      const h = await startHarness(db, { env: { WECHAT_SIGN_TYPE: 'HMAC-SHA256' } });
      try {
        expect(await post(h, notification(old!, 'MD5').body)).toBe(SUCCESS);
        expect(await statusOf(old!.id)).toBe('PAID');

        // The configured algorithm is not the order's: refused, and nothing written.
        const before = await evidenceOf(another!.id);
        expect(await post(h, notification(another!, 'HMAC-SHA256').body)).toContain('SIGN_ERROR');
        expect(await statusOf(another!.id)).toBe('PENDING');
        expect(await evidenceOf(another!.id)).toEqual(before);

        // And an order placed under HMAC-SHA256 never accepts MD5 (no downgrade).
        const [fresh] = await placeOrders('HMAC-SHA256', 1);
        expect(await post(h, notification(fresh!, 'MD5').body)).toContain('SIGN_ERROR');
        expect(await statusOf(fresh!.id)).toBe('PENDING');
        expect(await post(h, notification(fresh!, 'HMAC-SHA256').body)).toBe(SUCCESS);
      } finally {
        await h.close();
      }
    });

    it("keeps the transaction_id, time_end and cash_fee of a REVIEW order's later correct payment", async () => {
      const [order] = await placeOrders('HMAC-SHA256', 1);
      const h = await startHarness(db);
      try {
        const wrong = notification(order!, 'HMAC-SHA256', { total_fee: '1', cash_fee: '1', coupon_fee: '0' });
        expect(await post(h, wrong.body)).toContain('FAIL');
        expect(await statusOf(order!.id)).toBe('REVIEW');

        const right = notification(order!, 'HMAC-SHA256');
        expect(await post(h, right.body)).toBe(SUCCESS);
        expect(await post(h, right.body)).toBe(SUCCESS); // WeChat's retry: still one row
        expect(await statusOf(order!.id)).toBe('REVIEW'); // a person decides
        const kept = await evidenceOf(order!.id);
        expect(
          kept.map((e) => [e.transaction_id, e.total_fee, e.cash_fee, e.time_end, e.order_status]),
        ).toEqual([
          [wrong.transactionId, 1, 1, '20240101120530', 'PENDING'],
          [right.transactionId, order!.amount, order!.amount - 300, '20240101120530', 'REVIEW'],
        ]);
        expect(JSON.parse(kept[1]!.raw)).toMatchObject({
          coupon_fee: '300',
          transaction_id: right.transactionId,
        });
        expect(JSON.parse(kept[1]!.raw)).not.toHaveProperty('sign');
      } finally {
        await h.close();
      }
    });

    it('keeps the evidence of a second transaction for a paid order, which is refused and not credited', async () => {
      const [order] = await placeOrders('HMAC-SHA256', 1);
      const h = await startHarness(db);
      try {
        const first = notification(order!, 'HMAC-SHA256');
        const second = notification(order!, 'HMAC-SHA256');
        expect(await post(h, first.body)).toBe(SUCCESS);
        expect(await post(h, second.body)).toContain('TRANSACTION_CONFLICT');
        const kept = await evidenceOf(order!.id);
        expect(kept.map((e) => [e.transaction_id, e.order_status]).sort()).toEqual(
          [
            [first.transactionId, 'PENDING'],
            [second.transactionId, 'PAID'],
          ].sort(),
        );
        const row = await db.db
          .selectFrom('orders')
          .selectAll()
          .where('id', '=', order!.id)
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ status: 'PAID', transaction_id: first.transactionId });
      } finally {
        await h.close();
      }
    });
  });
}
