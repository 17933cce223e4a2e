import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from './harness.js';
import { moneyInvariantViolations } from './invariants.js';

interface RefundBody {
  refund: {
    outRefundNo: string;
    amount: number;
    status: string;
    refundId: string | null;
    lastError: string | null;
  };
  order: {
    id: string;
    status: string;
    refundedAmount: number;
    refunds: { outRefundNo: string; status: string }[];
  };
  code?: string;
}

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };

/** Refunds end to end: the admin route, the simulator over HTTP, its notification, the reconciler. */
for (const database of testDatabases()) {
  describe(`refunds on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let keyN = 0;

    beforeAll(async () => {
      db = await database.openMigrated();
      const certs = await generateTestCertificates({ mchId: CREDENTIALS.mchId });
      h = await startHarness(db, {
        env: { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey },
        behaviour: { refundDelaySeconds: 60 },
      });
    });
    afterAll(async () => {
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
      await h?.close();
      await db?.close();
    });

    /** A PAID order of `sku` (latte: 2800 fen), paid through the simulator's notification. */
    async function paidOrder(sku = 'latte') {
      const { token } = await h.login();
      const res = await h.api('POST', '/api/orders', token, { sku, quantity: 1 });
      const { order, payment } = (await res.json()) as {
        order: { id: string; outTradeNo: string; amount: number };
        payment: { package: string };
      };
      await h.sim('/sim/pay', {
        prepay_id: payment.package.slice('prepay_id='.length),
        result: 'SUCCESS',
        appId: CREDENTIALS.appid,
        payment,
      });
      await h.clock.settle();
      expect((await orderRow(order.id)).status).toBe('PAID');
      return { ...order, token };
    }

    async function refund(orderId: string, body: object, key = `k-${database.name}-${++keyN}`) {
      const res = await h.api('POST', `/admin/orders/${orderId}/refunds`, undefined, body, {
        ...admin,
        'idempotency-key': key,
      });
      return { status: res.status, body: (await res.json()) as RefundBody };
    }

    const orderRow = (id: string) =>
      db.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const refundRows = (orderId: string) =>
      db.db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
    const anomalies = () => db.db.selectFrom('anomalies').selectAll().execute();

    /** Moves both clocks past the simulator's refund delay and lets its notifications land. */
    async function refundTimePasses() {
      await h.clock.advance(61_000);
      await h.clock.settle();
    }

    it('refunds part, then the rest, through the simulator and its notification; the phone sees each refund', async () => {
      const order = await paidOrder();
      const first = await refund(order.id, { amount: 800, reason: '少一杯' });
      expect(first.status).toBe(201);
      expect(first.body.refund).toMatchObject({ amount: 800, status: 'PROCESSING', lastError: null });
      expect(first.body.refund.refundId).toMatch(/^503/);
      expect(first.body.refund.outRefundNo).toMatch(/^R[0-9A-Za-z]{24}$/);
      expect((await orderRow(order.id)).refunded_fen).toBe(800);

      await refundTimePasses();
      expect((await refundRows(order.id))[0]).toMatchObject({ status: 'SUCCESS' });
      expect((await orderRow(order.id)).status).toBe('PARTIALLY_REFUNDED');
      const sent = await h.sim(`/sim/notifications?out_trade_no=${order.outTradeNo}`);
      const attempts = (sent.json as { attempts: { kind?: string; ok: boolean }[] }).attempts;
      expect(attempts.filter((a) => a.ok)).toHaveLength(2); // the payment and the refund

      const rest = await refund(order.id, { amount: 2000, reason: '全部退' });
      expect(rest.status).toBe(201);
      await refundTimePasses();
      const row = await orderRow(order.id);
      expect(row).toMatchObject({ status: 'REFUNDED', refunded_fen: 2800, refund_count: 2 });

      const seen = await h.api('GET', `/api/orders/${order.id}`, order.token);
      const view = ((await seen.json()) as RefundBody).order;
      expect(view).toMatchObject({ status: 'REFUNDED', refundedAmount: 2800 });
      expect(view.refunds.map((r) => [r.outRefundNo, r.status])).toEqual([
        [first.body.refund.outRefundNo, 'SUCCESS'],
        [rest.body.refund.outRefundNo, 'SUCCESS'],
      ]);
      expect(JSON.stringify(view)).not.toContain('lastError');
    });

    it('settles a refund whose notification was dropped by querying it from the reconciler', async () => {
      const order = await paidOrder();
      await h.sim('/sim/faults', { fault: 'NOTIFY_DROP', out_trade_no: order.outTradeNo, times: 20 });
      const r = await refund(order.id, { amount: 2800, reason: '' });
      expect(r.status).toBe(201);
      await refundTimePasses();
      expect((await refundRows(order.id))[0]?.status).toBe('PROCESSING');
      const report = await h.service.refundReconciler.runOnce();
      expect(report).toMatchObject({ claimed: 1, settled: 1 });
      expect((await refundRows(order.id))[0]?.status).toBe('SUCCESS');
      expect((await orderRow(order.id)).status).toBe('REFUNDED');
    });

    it('ends REFUNDED when the refund notification overtakes the payment one; the late payment changes nothing', async () => {
      // WeChat holds the payment notification until the order's next one (REORDER). The phone's
      // sync settles the payment by query, the admin refunds everything, and the refund
      // notification arrives first; the payment notification follows and must not credit again.
      const { token } = await h.login();
      const res = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 });
      const { order, payment } = (await res.json()) as {
        order: { id: string; outTradeNo: string };
        payment: { package: string };
      };
      const paid = await fetch(`${h.simulatorUrl}/sim/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-fault': 'REORDER' },
        body: JSON.stringify({ prepay_id: payment.package.slice('prepay_id='.length), result: 'SUCCESS' }),
      });
      expect(paid.status).toBe(200);
      await h.clock.settle();
      expect((await orderRow(order.id)).status).toBe('PENDING');
      await h.api('POST', `/api/orders/${order.id}/sync`, token);
      expect((await orderRow(order.id)).status).toBe('PAID');

      expect((await refund(order.id, { amount: 2800, reason: '退款' })).status).toBe(201);
      await refundTimePasses();
      const delivered = (
        (await h.sim(`/sim/notifications?out_trade_no=${order.outTradeNo}`)).json as {
          attempts: { kind: string; ok: boolean }[];
        }
      ).attempts.filter((a) => a.ok);
      expect(delivered.map((a) => a.kind).sort()).toEqual(['payment', 'refund']);
      // In the order's history the refund settled first; the payment notification came after,
      // verified and recorded, and applied nothing.
      const history = await db.db
        .selectFrom('order_events')
        .select(['type', 'data'])
        .where('order_id', '=', order.id)
        .orderBy('id')
        .execute();
      expect(history.slice(-3).map((e) => e.type)).toEqual([
        'refund_settled',
        'state_changed',
        'notification_received',
      ]);
      expect(JSON.parse(history.at(-1)?.data ?? '{}')).toMatchObject({ verified: true, applied: false });
      expect((await orderRow(order.id)).status).toBe('REFUNDED');
      const events = await db.db
        .selectFrom('order_events')
        .select('data')
        .where('order_id', '=', order.id)
        .where('type', '=', 'state_changed')
        .execute();
      expect(events.filter((e) => (JSON.parse(e.data) as { to: string }).to === 'PAID')).toHaveLength(1);
      expect(await moneyInvariantViolations(db.db)).toEqual([]);
    });

    it('replays the first answer for the same Idempotency-Key: one refund, not two', async () => {
      const order = await paidOrder();
      const a = await refund(order.id, { amount: 100, reason: 'x' }, `same-${database.name}`);
      const b = await refund(order.id, { amount: 100, reason: 'x' }, `same-${database.name}`);
      expect(b.status).toBe(201);
      expect(b.body.refund.outRefundNo).toBe(a.body.refund.outRefundNo);
      expect(await refundRows(order.id)).toHaveLength(1);
      const other = await refund(order.id, { amount: 101, reason: 'x' }, `same-${database.name}`);
      expect(other.status).toBe(422);
    });

    it('refuses bad input with a clear code and changes nothing', async () => {
      const order = await paidOrder();
      const before = await orderRow(order.id);
      const cases: [object, number, string][] = [
        [{ amount: 0, reason: '' }, 400, 'VALIDATION_ERROR'],
        [{ amount: -5, reason: '' }, 400, 'VALIDATION_ERROR'],
        [{ amount: 1.5, reason: '' }, 400, 'VALIDATION_ERROR'],
        [{ amount: '100', reason: '' }, 400, 'VALIDATION_ERROR'],
        [{ amount: 2801, reason: '' }, 409, 'REFUND_EXCEEDS_PAID'],
      ];
      for (const [body, status, code] of cases) {
        const r = await refund(order.id, body);
        expect([r.status, r.body.code]).toEqual([status, code]);
      }
      const noKey = await h.api(
        'POST',
        `/admin/orders/${order.id}/refunds`,
        undefined,
        { amount: 1, reason: '' },
        admin,
      );
      expect(noKey.status).toBe(400);
      const asUser = await h.api(
        'POST',
        `/admin/orders/${order.id}/refunds`,
        order.token,
        { amount: 1, reason: '' },
        {
          'idempotency-key': 'u1',
        },
      );
      expect(asUser.status).toBe(403);

      const { token } = await h.login();
      const unpaid = (await (
        await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 })
      ).json()) as {
        order: { id: string };
      };
      const r = await refund(unpaid.order.id, { amount: 1, reason: '' });
      expect([r.status, r.body.code]).toEqual([409, 'ORDER_NOT_REFUNDABLE']);
      const closed = await h.api('POST', `/api/orders/${unpaid.order.id}/close`, token);
      expect(closed.status).toBe(200);
      expect((await refund(unpaid.order.id, { amount: 1, reason: '' })).body.code).toBe(
        'ORDER_NOT_REFUNDABLE',
      );
      expect((await refund('no-such-order', { amount: 1, reason: '' })).status).toBe(404);

      expect(await orderRow(order.id)).toEqual(before);
      expect(await refundRows(order.id)).toEqual([]);
      expect(await refundRows(unpaid.order.id)).toEqual([]);
    });

    it('keeps a refund PROCESSING after a timeout and sends it again with the same out_refund_no', async () => {
      const order = await paidOrder();
      // Applied at WeChat, then the line is cut: we cannot know; three attempts all lose the answer.
      await h.sim('/sim/faults', { fault: 'RESET_AFTER_APPLY', api: 'refund', times: 3 });
      const r = await refund(order.id, { amount: 500, reason: 'timeout' });
      expect(r.status).toBe(201);
      expect(r.body.refund).toMatchObject({ status: 'PROCESSING', refundId: null });
      expect(r.body.refund.lastError).toMatch(/^UNKNOWN_OUTCOME/);
      await h.clock.advance(61_000);
      await h.service.refundReconciler.runOnce();
      const [row] = await refundRows(order.id);
      expect(row?.out_refund_no).toBe(r.body.refund.outRefundNo);
      expect(row?.refund_id).toMatch(/^503/);
      const atWechat = await h.sim(`/sim/orders?out_trade_no=${order.outTradeNo}`);
      const simRefunds = (atWechat.json as { orders: { refunds: { out_refund_no: string }[] }[] }).orders[0]
        ?.refunds;
      expect(simRefunds?.map((x) => x.out_refund_no)).toEqual([r.body.refund.outRefundNo]);
    });

    it('never refunds more than was paid when 20 refunds race (sum 20 × 300 > 2800)', async () => {
      const order = await paidOrder();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => refund(order.id, { amount: 300, reason: 'race' })),
      );
      const created = results.filter((r) => r.status === 201);
      expect(created).toHaveLength(9);
      expect(
        results.filter((r) => r.status === 409).every((r) => r.body.code === 'REFUND_EXCEEDS_PAID'),
      ).toBe(true);
      const row = await orderRow(order.id);
      expect(row.refunded_fen).toBe(2700);
      const rows = await refundRows(order.id);
      expect(rows.reduce((s, x) => s + x.amount, 0)).toBe(2700);
      await refundTimePasses();
      expect((await orderRow(order.id)).status).toBe('PARTIALLY_REFUNDED');
    });

    it('ends an abnormal refund in CHANGE with an anomaly, leaving the order as it was', async () => {
      const order = await paidOrder();
      await h.sim('/sim/faults', { fault: 'REFUND_ABNORMAL', out_trade_no: order.outTradeNo, times: 1 });
      const r = await refund(order.id, { amount: 1000, reason: 'abnormal' });
      await refundTimePasses();
      expect((await refundRows(order.id))[0]?.status).toBe('CHANGE');
      expect((await orderRow(order.id)).status).toBe('PAID');
      expect(await anomalies()).toContainEqual(
        expect.objectContaining({
          kind: 'refund_abnormal',
          ref: r.body.refund.outRefundNo,
          order_id: order.id,
        }),
      );
    });

    it('has the money invariants catch a refund row beyond what was paid', async () => {
      const order = await paidOrder();
      const row = {
        id: `bogus-${database.name}`,
        order_id: order.id,
        out_refund_no: `BOGUS${database.name}`,
        amount: 2801,
        reason: '',
        status: 'PROCESSING',
        refund_id: null,
        last_error: null,
        attempts: 0,
        requested_by: 'test',
        created_at: 0,
        updated_at: 0,
        settled_at: null,
        last_queried_at: null,
        lease_until: null,
        lease_owner: null,
      };
      await db.db.insertInto('refunds').values(row).execute();
      const problems = await moneyInvariantViolations(db.db);
      await db.db.deleteFrom('refunds').where('id', '=', row.id).execute();
      expect(problems).toEqual([
        `refunds-within-paid: order ${order.id}: refunds reserve 2801 fen (ledger 0) of 2800 fen paid`,
        `order ${order.id} ledger says 0, refunds say 2801`,
      ]);
    });

    it('frees the amount of a refund WeChat closed and raises an anomaly', async () => {
      const order = await paidOrder();
      await h.sim('/sim/faults', { fault: 'REFUND_CLOSED', out_trade_no: order.outTradeNo, times: 1 });
      const r = await refund(order.id, { amount: 2800, reason: 'closed' });
      await refundTimePasses();
      expect((await refundRows(order.id))[0]?.status).toBe('CLOSED');
      expect(await orderRow(order.id)).toMatchObject({ status: 'PAID', refunded_fen: 0 });
      expect(await anomalies()).toContainEqual(
        expect.objectContaining({ kind: 'refund_closed', ref: r.body.refund.outRefundNo }),
      );
      expect((await refund(order.id, { amount: 2800, reason: 'again' })).status).toBe(201);
    });
  });
}
