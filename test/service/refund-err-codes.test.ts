import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { API_VERSIONS, CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

/**
 * What WeChat's refund API answers when it does not refund, played by the simulator's ERR_CODE
 * fault over HTTP, on both API versions (v3 spells the codes its own way: NOT_ENOUGH) and both
 * databases: a code to retry keeps the refund PROCESSING with the code, and the refund
 * reconciler sends it again with the same out_refund_no; a final refusal closes it, frees its
 * amount and raises an anomaly. Never a second refund.
 */
for (const database of testDatabases()) {
  for (const version of API_VERSIONS) {
    describe(`refund err_codes, API ${version}, on ${database.name}`, () => {
      let db: TestDbHandle;
      let h: Harness;
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
      });
      afterAll(async () => {
        expect(await moneyInvariantViolations(db.db)).toEqual([]);
        await h?.close();
        await db?.close();
      });

      async function paidOrder() {
        const { token } = await h.login();
        const res = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 });
        const { order, payment } = (await res.json()) as {
          order: { id: string; outTradeNo: string };
          payment: { package: string };
        };
        await h.sim('/sim/pay', { prepay_id: payment.package.slice('prepay_id='.length), result: 'SUCCESS' });
        await h.clock.settle();
        return order;
      }

      async function refund(orderId: string, amount: number) {
        const res = await h.api(
          'POST',
          `/admin/orders/${orderId}/refunds`,
          undefined,
          { amount, reason: 'err_code' },
          { ...admin, 'idempotency-key': `errcode-${version}-${++n}` },
        );
        expect(res.status, await res.clone().text()).toBe(201);
        return (
          (await res.json()) as { refund: { outRefundNo: string; status: string; lastError: string | null } }
        ).refund;
      }

      const refundRow = (outRefundNo: string) =>
        db.db
          .selectFrom('refunds')
          .selectAll()
          .where('out_refund_no', '=', outRefundNo)
          .executeTakeFirstOrThrow();
      const simRefunds = async (outTradeNo: string) =>
        ((await h.sim(`/sim/orders?out_trade_no=${outTradeNo}`)).json as { orders: { refunds: unknown[] }[] })
          .orders[0]!.refunds;

      it.each(['NOTENOUGH', 'FREQUENCY_LIMITED', 'BIZERR_NEED_RETRY'])(
        '%s keeps the refund PROCESSING with the code; the reconciler sends it again and it succeeds once',
        async (errCode) => {
          const order = await paidOrder();
          // Some codes are retried at once (upstream retry): every try fails until the rule goes.
          await h.sim('/sim/faults', { fault: 'ERR_CODE', api: 'refund', err_code: errCode, times: null });
          const first = await refund(order.id, 800);
          await h.sim('/sim/faults', undefined, 'DELETE');
          expect(first.status).toBe('PROCESSING');
          expect(first.lastError?.replace(/_/g, '')).toBe(errCode.replace(/_/g, ''));
          expect(await simRefunds(order.outTradeNo)).toEqual([]);
          expect((await refundRow(first.outRefundNo)).refund_id).toBeNull();

          await h.clock.advance(61_000); // past RECONCILE_AFTER_SECONDS
          await h.service.refundReconciler.runOnce();
          expect(await simRefunds(order.outTradeNo)).toHaveLength(1);
          await h.clock.advance(61_000); // past the simulator's refund delay: SUCCESS and its notification
          await h.clock.settle();
          await h.service.refundReconciler.runOnce();
          const row = await refundRow(first.outRefundNo);
          expect(row).toMatchObject({ status: 'SUCCESS', last_error: null });
          expect(row.attempts).toBeGreaterThanOrEqual(2);
          expect(await simRefunds(order.outTradeNo)).toHaveLength(1);
        },
      );

      it('USER_ACCOUNT_ABNORMAL is final: the refund is CLOSED, its amount free again, and a person is told', async () => {
        const order = await paidOrder();
        await h.sim('/sim/faults', { fault: 'ERR_CODE', api: 'refund', err_code: 'USER_ACCOUNT_ABNORMAL' });
        const r = await refund(order.id, 2800);
        await h.sim('/sim/faults', undefined, 'DELETE');
        expect(r.status).toBe('CLOSED');
        const o = await db.db
          .selectFrom('orders')
          .selectAll()
          .where('id', '=', order.id)
          .executeTakeFirstOrThrow();
        expect(o).toMatchObject({ status: 'PAID', refunded_fen: 0 });
        const anomaly = await db.db
          .selectFrom('anomalies')
          .selectAll()
          .where('kind', '=', 'refund_rejected')
          .where('ref', '=', r.outRefundNo)
          .executeTakeFirst();
        expect(anomaly).toBeDefined();
        expect(await simRefunds(order.outTradeNo)).toEqual([]);
      });
    });
  }
}
