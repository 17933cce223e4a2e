import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRequestPaymentParams } from '../../src/wechat/v2/pay-params.js';
import { verifyV3PaySign } from '../../src/wechat/v3/pay-params.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { MERCHANT_PUBLIC_KEY } from '../fixtures/v3-keys.js';
import { API_VERSIONS, type ApiVersion, CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

interface CreatedBody {
  order: { id: string; outTradeNo: string; amount: number; status: string; description: string };
  payment: { timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string };
}

/** What wx.requestPayment needs, signed as each API version signs it (checked as the WeChat client would). */
const PAYMENT_SIGNATURES: Record<
  ApiVersion,
  { signType: string; verify(p: CreatedBody['payment']): boolean }
> = {
  v2: {
    signType: 'HMAC-SHA256',
    verify: (p) => verifyRequestPaymentParams(p, CREDENTIALS.appid, CREDENTIALS.key),
  },
  v3: {
    signType: 'RSA',
    verify: (p) => verifyV3PaySign({ appid: CREDENTIALS.appid, ...p }, MERCHANT_PUBLIC_KEY),
  },
};

/** The body of the service's answer to a notification it accepted. */
const ACCEPTED_REPLY: Record<ApiVersion, string> = {
  v2: '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
  v3: '',
};

for (const version of API_VERSIONS)
  for (const database of testDatabases()) {
    describe(`payment flow on ${database.name}, API ${version}`, () => {
      let db: TestDbHandle;
      let h: Harness;

      beforeAll(async () => {
        db = await database.openMigrated();
        h = await startHarness(db, { version });
      });
      afterAll(async () => {
        expect(await moneyInvariantViolations(db.db)).toEqual([]);
        await h?.close();
        await db?.close();
      });

      async function buy(token: string, body: object = { sku: 'coffee', quantity: 1 }, headers = {}) {
        const res = await h.api('POST', '/api/orders', token, body, headers);
        return { status: res.status, body: (await res.json()) as CreatedBody & { code?: string } };
      }

      async function orderRow(id: string) {
        return db.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      }

      async function stateChanges(id: string) {
        return db.db
          .selectFrom('order_events')
          .select(['type', 'data'])
          .where('order_id', '=', id)
          .where('type', '=', 'state_changed')
          .execute();
      }

      it('takes an order from login to PAID through the simulator, crediting it once', async () => {
        const { token } = await h.login();
        const products = await h.api('GET', '/api/products', token);
        expect(products.status).toBe(200);
        expect(
          ((await products.json()) as { products: { sku: string }[] }).products.map((p) => p.sku),
        ).toContain('coffee');

        const created = await buy(token);
        expect(created.status).toBe(201);
        const { order, payment } = created.body;
        expect(order).toMatchObject({ status: 'PENDING', amount: 1 });
        expect(payment.timeStamp).toMatch(/^[0-9]{10}$/);
        expect(payment.package).toMatch(/^prepay_id=wx/);
        expect(payment.signType).toBe(PAYMENT_SIGNATURES[version].signType);
        expect(PAYMENT_SIGNATURES[version].verify(payment)).toBe(true);
        expect(PAYMENT_SIGNATURES[version].verify({ ...payment, package: `${payment.package}0` })).toBe(
          false,
        );

        const prepayId = payment.package.slice('prepay_id='.length);
        const paid = await h.sim('/sim/pay', {
          prepay_id: prepayId,
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment,
        });
        expect(paid.status).toBe(200);
        await h.clock.settle();

        const row = await orderRow(order.id);
        expect(row.status).toBe('PAID');
        expect(row.paid_source).toBe('notify');
        expect(row.transaction_id).toMatch(/^[0-9]{28}$/);
        expect(await stateChanges(order.id)).toHaveLength(1);

        const seen = await h.sim(`/sim/notifications?out_trade_no=${order.outTradeNo}`);
        const attempts = (seen.json as { attempts: { ok: boolean; reply: string }[] }).attempts;
        expect(attempts).toHaveLength(1);
        expect(attempts[0]).toMatchObject({ ok: true });
        expect(attempts[0]?.reply).toBe(ACCEPTED_REPLY[version]);

        const view = await h.api('GET', `/api/orders/${order.id}`, token);
        expect(((await view.json()) as CreatedBody).order.status).toBe('PAID');
      });

      it('credits once when WeChat sends the same notification 10 times at once', async () => {
        const { token } = await h.login();
        const { body } = await buy(token);
        await h.sim('/sim/faults', {
          fault: 'NOTIFY_DUPLICATE',
          out_trade_no: body.order.outTradeNo,
          params: { copies: 10 },
        });
        const prepayId = body.payment.package.slice('prepay_id='.length);
        await h.sim('/sim/pay', { prepay_id: prepayId, result: 'SUCCESS' });
        await h.clock.settle();

        expect((await orderRow(body.order.id)).status).toBe('PAID');
        expect(await stateChanges(body.order.id)).toHaveLength(1);
        const seen = await h.sim(`/sim/notifications?out_trade_no=${body.order.outTradeNo}`);
        const attempts = (seen.json as { attempts: { ok: boolean }[] }).attempts;
        expect(attempts).toHaveLength(10);
        expect(attempts.every((a) => a.ok)).toBe(true);
      });

      it('leaves the order pending when the user cancels, and /sync does not mark it paid', async () => {
        const { token } = await h.login();
        const { body } = await buy(token);
        const prepayId = body.payment.package.slice('prepay_id='.length);
        const cancelled = await h.sim('/sim/pay', { prepay_id: prepayId, result: 'CANCEL' });
        expect(cancelled.json).toMatchObject({ errMsg: 'requestPayment:fail cancel' });
        const synced = await h.api('POST', `/api/orders/${body.order.id}/sync`, token);
        expect(synced.status).toBe(200);
        expect(((await synced.json()) as CreatedBody).order.status).toBe('PENDING');
        expect((await orderRow(body.order.id)).status).toBe('PENDING');
      });

      it('recovers a payment whose notifications were all dropped: /sync, then the reconciler', async () => {
        const { token } = await h.login();
        const first = (await buy(token)).body;
        const second = (await buy(token)).body;
        for (const o of [first, second]) {
          await h.sim('/sim/faults', { fault: 'NOTIFY_DROP', out_trade_no: o.order.outTradeNo });
          await h.sim('/sim/pay', { prepay_id: o.payment.package.slice(10), result: 'SUCCESS' });
        }
        await h.clock.settle();
        expect((await orderRow(first.order.id)).status).toBe('PENDING');

        const synced = await h.api('POST', `/api/orders/${first.order.id}/sync`, token);
        expect(((await synced.json()) as CreatedBody).order.status).toBe('PAID');
        expect((await orderRow(first.order.id)).paid_source).toBe('query');

        // Nothing for the reconciler until the order is older than RECONCILE_AFTER_SECONDS (60 s).
        expect((await h.service.reconciler.runOnce()).paid).toBe(0);
        await h.clock.advance(61_000);
        const report = await h.service.reconciler.runOnce();
        expect(report.paid).toBeGreaterThanOrEqual(1);
        const row = await orderRow(second.order.id);
        expect(row.status).toBe('PAID');
        expect(row.paid_source).toBe('query');
      });

      it('retries SYSTEMERROR with the same out_trade_no and fields, then answers 503', async () => {
        const { token } = await h.login();
        await h.sim('/sim/faults', { fault: 'SYSTEMERROR', api: 'unifiedorder', times: 1 });
        const once = await buy(token);
        expect(once.status).toBe(201);

        await h.sim('/sim/faults', { fault: 'SYSTEMERROR', api: 'unifiedorder', times: 3 });
        const before = await db.db
          .selectFrom('orders')
          .select(db.db.fn.countAll().as('n'))
          .executeTakeFirstOrThrow();
        const failed = await buy(token);
        expect(failed.status).toBe(503);
        expect(failed.body.code).toBe('PAYMENT_UNAVAILABLE');
        const after = await db.db
          .selectFrom('orders')
          .select(db.db.fn.countAll().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(after.n) - Number(before.n)).toBe(1);
      });

      it('reuses the out_trade_no after a reset that WeChat applied, never OUT_TRADE_NO_USED', async () => {
        const { token } = await h.login();
        await h.sim('/sim/faults', { fault: 'RESET_AFTER_APPLY', api: 'unifiedorder', times: 1 });
        const created = await buy(token);
        expect(created.status).toBe(201);
        const simOrders = await h.sim('/sim/orders');
        const matching = (simOrders.json as { orders: { out_trade_no: string }[] }).orders.filter(
          (o) => o.out_trade_no === created.body.order.outTradeNo,
        );
        expect(matching).toHaveLength(1);
      });

      it('creates 200 orders at once through the simulator with no 5xx and no repeated out_trade_no', async () => {
        const { token } = await h.login();
        const responses = await Promise.all(
          Array.from({ length: 200 }, () =>
            h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }),
          ),
        );
        expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
        const bodies = (await Promise.all(responses.map((r) => r.json()))) as CreatedBody[];
        expect(new Set(bodies.map((b) => b.order.outTradeNo)).size).toBe(200);
        expect(new Set(bodies.map((b) => b.payment.package)).size).toBe(200);
        // On v3 each order costs three RSA signatures and two verifications across the two processes.
      }, 90_000);

      it('prices on the server, ignores a client price, and refuses bad quantities', async () => {
        const { token } = await h.login();
        const priced = await buy(token, { sku: 'latte', quantity: 2, price: 1, amount: 1 });
        expect(priced.status).toBe(201);
        expect(priced.body.order.amount).toBe(5600);
        for (const quantity of [0, -1, 1.5, '2', 1e9, null]) {
          const res = await buy(token, { sku: 'latte', quantity });
          expect(res.status, `quantity ${JSON.stringify(quantity)}`).toBe(400);
          expect(res.body.code).toBe('VALIDATION_ERROR');
        }
        expect((await buy(token, { sku: 'nope', quantity: 1 })).body.code).toBe('UNKNOWN_PRODUCT');
      });

      it('cuts a 129-byte description to 127 bytes on a character boundary', async () => {
        const { token } = await h.login();
        const created = await buy(token, { sku: 'long', quantity: 1 });
        expect(created.status).toBe(201);
        expect(created.body.order.description).toBe('测'.repeat(42));
        expect(Buffer.byteLength(created.body.order.description)).toBe(126);
      });

      it('replays the stored response when the same Idempotency-Key and body arrive twice', async () => {
        const { token } = await h.login();
        const headers = { 'idempotency-key': 'checkout-1' };
        const first = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }, headers);
        const second = await h.api('POST', '/api/orders', token, { quantity: 1, sku: 'coffee' }, headers);
        expect(first.status).toBe(201);
        expect(second.status).toBe(201);
        expect(await second.text()).toBe(await first.text());
        const reused = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 2 }, headers);
        expect(reused.status).toBe(422);
        expect(((await reused.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_REUSED');
        const tooLong = await h.api(
          'POST',
          '/api/orders',
          token,
          { sku: 'coffee', quantity: 1 },
          { 'idempotency-key': 'k'.repeat(256) },
        );
        expect(tooLong.status).toBe(400);
      });

      it('resumes the same order when a 503 is retried with the same Idempotency-Key', async () => {
        const { token } = await h.login();
        const headers = { 'idempotency-key': 'retry-after-503' };
        const count = async () =>
          Number(
            (await db.db.selectFrom('orders').select(db.db.fn.countAll().as('n')).executeTakeFirstOrThrow())
              .n,
          );
        const before = await count();
        await h.sim('/sim/faults', { fault: 'SYSTEMERROR', api: 'unifiedorder', times: 3 });
        const failed = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 }, headers);
        expect(failed.status).toBe(503);
        const retried = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 }, headers);
        expect(retried.status).toBe(201);
        const { order } = (await retried.json()) as CreatedBody;
        expect(await count()).toBe(before + 1);
        const failedAttempts = await db.db
          .selectFrom('order_events')
          .select('id')
          .where('order_id', '=', order.id)
          .where('type', '=', 'prepay_failed')
          .execute();
        // Two retried attempts and the final failure of the first request; the retry then succeeded.
        expect(failedAttempts).toHaveLength(3);
        const replay = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 }, headers);
        expect(((await replay.json()) as CreatedBody).order.id).toBe(order.id);
      });

      it('finishes an order whose request died mid-flight, with the same out_trade_no and fields', async () => {
        const { token } = await h.login();
        const headers = { 'idempotency-key': 'crashed-request' };
        // A first request that reaches WeChat, then "crashes" before replying: its claim stays in flight.
        await h.sim('/sim/faults', { fault: 'HANG', api: 'unifiedorder', times: 3 });
        const crashed = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }, headers);
        expect(crashed.status).toBe(503);
        const orderId = (
          await db.db
            .selectFrom('idempotency_keys')
            .select('resource_id')
            .where('key', '=', 'crashed-request')
            .executeTakeFirstOrThrow()
        ).resource_id;
        expect(orderId).not.toBeNull();
        // Put the claim back in flight, as a process killed mid-request would leave it.
        await db.db
          .updateTable('idempotency_keys')
          .set({ state: 'in_flight', claimed_at: h.clock.now() })
          .where('key', '=', 'crashed-request')
          .execute();
        const busy = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }, headers);
        expect(busy.status).toBe(409);
        await h.clock.advance(61_000);
        const finished = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }, headers);
        expect(finished.status).toBe(201);
        const body = (await finished.json()) as CreatedBody;
        expect(body.order.id).toBe(orderId);
        const simOrders = (await h.sim('/sim/orders')).json as { orders: { out_trade_no: string }[] };
        expect(simOrders.orders.filter((o) => o.out_trade_no === body.order.outTradeNo)).toHaveLength(1);
      });

      it('makes one order and one unifiedorder call for 50 concurrent requests with one key', async () => {
        const { token } = await h.login();
        const headers = { 'idempotency-key': 'fifty-at-once' };
        const before = ((await h.sim('/sim/orders')).json as { orders: unknown[] }).orders.length;
        const responses = await Promise.all(
          Array.from({ length: 50 }, () =>
            h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 }, headers),
          ),
        );
        const bodies = await Promise.all(responses.map((r) => r.text()));
        const statuses = responses.map((r) => r.status);
        expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
        const created = bodies.filter((_b, i) => statuses[i] === 201);
        expect(new Set(created).size).toBe(1);
        const after = ((await h.sim('/sim/orders')).json as { orders: unknown[] }).orders.length;
        expect(after - before).toBe(1);
      });

      it("answers 404 for someone else's order, for reads, syncs and closes alike", async () => {
        const alice = await h.login();
        const bob = await h.login();
        const { body } = await buy(alice.token);
        for (const [method, path] of [
          ['GET', `/api/orders/${body.order.id}`],
          ['POST', `/api/orders/${body.order.id}/sync`],
          ['POST', `/api/orders/${body.order.id}/close`],
          ['GET', `/api/orders/${body.order.id}/events`],
        ] as const) {
          const res = await h.api(method, path, bob.token);
          expect(res.status, `${method} ${path}`).toBe(404);
          expect(await res.json()).toEqual({ code: 'ORDER_NOT_FOUND', message: 'No such order.' });
        }
        expect((await orderRow(body.order.id)).status).toBe('PENDING');
      });

      it('closes a pending order at WeChat and locally; a paid order cannot be closed', async () => {
        const { token } = await h.login();
        const { body } = await buy(token);
        const closed = await h.api('POST', `/api/orders/${body.order.id}/close`, token);
        expect(((await closed.json()) as CreatedBody).order.status).toBe('CLOSED');
        const simOrders = (await h.sim('/sim/orders')).json as {
          orders: { out_trade_no: string; trade_state: string }[];
        };
        expect(simOrders.orders.find((o) => o.out_trade_no === body.order.outTradeNo)?.trade_state).toBe(
          'CLOSED',
        );
        const pay = await h.sim('/sim/pay', { prepay_id: body.payment.package.slice(10), result: 'SUCCESS' });
        expect(pay.status).toBeGreaterThanOrEqual(400);
      });

      it('closes orders past their expiry once they are five minutes old, through the reconciler', async () => {
        const { token } = await h.login();
        const { body } = await buy(token);
        await h.clock.advance(h.config.orderTtlMs + 1000);
        // Earlier tests left many pending orders; each cycle takes one batch of them.
        for (let cycle = 0; cycle < 20; cycle++) {
          if ((await h.service.reconciler.runOnce()).claimed === 0) break;
        }
        expect((await orderRow(body.order.id)).status).toBe('CLOSED');
        // Up to 20 cycles of 50 queries (and closes), one at a time: slow on a busy machine.
      }, 120_000);
    });
  }
