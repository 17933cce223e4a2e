import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationReport } from '../../src/reconcile/report.js';
import { generateTestCertificates } from '../../src/simulator/tls.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { API_VERSIONS, CREDENTIALS, type Harness, startHarness } from '../service/harness.js';

const admin = `Bearer ${CREDENTIALS.adminToken}`;
/** The harness starts at 2024-01-01 12:00 Beijing; this is 2024-01-02 10:00 Beijing, when the bill of the 1st is ready. */
const NEXT_MORNING_MS = Date.UTC(2024, 0, 2, 2, 0, 0);

/**
 * The daily reconciliation against the simulator's real bill (v2 downloadbill as GZIP, v3
 * tradebill with its SHA1 check), with mismatches made on purpose: a payment whose notification
 * was dropped, an order we hold PAID that WeChat never saw, an amount we altered, a refund whose
 * notification was dropped, and a refund amount we altered.
 */
interface Bought {
  id: string;
  outTradeNo: string;
  payment: { package: string };
}

for (const database of testDatabases()) {
  for (const version of API_VERSIONS) {
    describe(`daily reconciliation, API ${version}, on ${database.name}`, () => {
      let db: TestDbHandle;
      let h: Harness;
      const made = {} as Record<
        'paid' | 'lost' | 'altered' | 'phantom' | 'refundLost' | 'refundAltered',
        Bought
      >;
      const refundsMade = {} as Record<'lost' | 'altered', string>;

      beforeAll(async () => {
        db = await database.openMigrated();
        const certs =
          version === 'v2' ? await generateTestCertificates({ mchId: CREDENTIALS.mchId }) : undefined;
        h = await startHarness(db, {
          version,
          ...(certs && { env: { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey } }),
          behaviour: { refundDelaySeconds: 60 },
        });

        made.paid = await buy();
        await pay(made.paid);
        made.lost = await buy();
        await dropNotifications(made.lost.outTradeNo);
        await pay(made.lost);
        made.altered = await buy();
        await pay(made.altered);
        made.phantom = await buy();
        made.refundLost = await buy();
        await pay(made.refundLost);
        made.refundAltered = await buy();
        await pay(made.refundAltered);

        await dropNotifications(made.refundLost.outTradeNo);
        refundsMade.lost = await refund(made.refundLost.id, 800);
        refundsMade.altered = await refund(made.refundAltered.id, 500);
        await h.clock.advance(61_000);
        await h.clock.settle();

        // Our books, tampered with: an amount, a payment WeChat never saw, a refund's amount.
        await db.db.updateTable('orders').set({ amount: 2700 }).where('id', '=', made.altered.id).execute();
        await db.db
          .updateTable('orders')
          .set({
            status: 'PAID',
            transaction_id: '4200000000000000000000000000',
            paid_at: Date.UTC(2024, 0, 1, 5),
          })
          .where('id', '=', made.phantom.id)
          .execute();
        await db.db
          .updateTable('refunds')
          .set({ amount: 400 })
          .where('out_refund_no', '=', refundsMade.altered)
          .execute();
      });
      afterAll(async () => {
        await h?.close();
        await db?.close();
      });

      async function buy(): Promise<Bought> {
        const { token } = await h.login();
        const res = await h.api('POST', '/api/orders', token, { sku: 'latte', quantity: 1 });
        const body = (await res.json()) as {
          order: { id: string; outTradeNo: string };
          payment: { package: string };
        };
        expect(res.status).toBe(201);
        return { ...body.order, payment: body.payment };
      }
      async function pay({ payment }: Bought) {
        const paid = await h.sim('/sim/pay', {
          prepay_id: payment.package.slice('prepay_id='.length),
          result: 'SUCCESS',
          appId: CREDENTIALS.appid,
          payment,
        });
        expect(paid.status).toBe(200);
        await h.clock.settle();
      }
      async function dropNotifications(outTradeNo: string) {
        const set = await h.sim('/sim/faults', { fault: 'NOTIFY_DROP', out_trade_no: outTradeNo });
        expect(set.status).toBe(201);
      }
      async function refund(orderId: string, amount: number): Promise<string> {
        const res = await h.api(
          'POST',
          `/admin/orders/${orderId}/refunds`,
          undefined,
          { amount, reason: 'reconciliation test' },
          { authorization: admin, 'idempotency-key': `reconcile-${orderId}` },
        );
        expect(res.status, await res.clone().text()).toBe(201);
        return ((await res.json()) as { refund: { outRefundNo: string } }).refund.outRefundNo;
      }
      const orderStatus = async (id: string) =>
        (await db.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow())
          .status;
      const anomalies = () =>
        db.db.selectFrom('anomalies').selectAll().where('kind', 'like', 'bill_%').orderBy('id').execute();

      const mismatchEvents = async () =>
        (
          await db.db
            .selectFrom('webhook_events')
            .select('body')
            .where('type', '=', 'reconciliation.mismatch')
            .orderBy('seq')
            .execute()
        ).map(
          (row) =>
            JSON.parse(row.body) as {
              data: { object: { kind: string } & Record<string, unknown> };
            },
        );

      it('before 10:00 Beijing the next morning the daily job waits; then one run reports every mismatch', async () => {
        expect(await orderStatus(made.lost.id)).toBe('PENDING');
        await h.clock.advance(NEXT_MORNING_MS - 60_000 - h.clock.now());
        expect(await h.service.dailyReconciliation.tick()).toEqual({ ran: false, reason: 'not_yet' });
        await h.clock.advance(60_000);
        const tick = await h.service.dailyReconciliation.tick();
        expect(tick).toMatchObject({ ran: true, date: '2024-01-01' });
        const report = (tick as { report: ReconciliationReport }).report;

        const byKind = Object.fromEntries(report.findings.map((f) => [f.kind, f]));
        expect(Object.keys(byKind).sort()).toEqual([
          'bill_amount_mismatch',
          'bill_missing_payment',
          'bill_payment_not_recorded',
          'bill_refund_amount_mismatch',
          'bill_refund_not_recorded',
        ]);
        expect(byKind.bill_payment_not_recorded).toMatchObject({
          ref: made.lost.outTradeNo,
          action: 'settled_by_order_query',
          after: 'PAID',
          needsPerson: false,
        });
        expect(byKind.bill_refund_not_recorded).toMatchObject({
          ref: refundsMade.lost,
          action: 'settled_by_refund_query',
          after: 'SUCCESS',
          needsPerson: false,
        });
        expect(byKind.bill_amount_mismatch).toMatchObject({
          ref: made.altered.outTradeNo,
          bill: { amount: 2800 },
          ours: { amount: 2700 },
          needsPerson: true,
        });
        expect(byKind.bill_missing_payment).toMatchObject({
          ref: made.phantom.outTradeNo,
          needsPerson: true,
        });
        expect(byKind.bill_refund_amount_mismatch).toMatchObject({
          ref: refundsMade.altered,
          bill: { amount: 500 },
          ours: { amount: 400 },
          needsPerson: true,
        });
        expect(report).toMatchObject({
          billDate: '2024-01-01',
          apiVersion: version,
          status: 'needs_attention',
          counts: { findings: 5, needPerson: 3, settled: 2 },
          // paid, lost, altered, refundLost, refundAltered: five lattes at 28.00; two refunds.
          bill: { payments: { count: 5, amount: 14_000 }, refunds: { count: 2, amount: 1300 }, rows: 7 },
        });

        // The lost payment and the lost refund landed through the normal query paths.
        expect(await orderStatus(made.lost.id)).toBe('PAID');
        expect(await orderStatus(made.refundLost.id)).toBe('PARTIALLY_REFUNDED');

        // One anomaly per finding; the two the run settled are on file, already resolved.
        const recorded = await anomalies();
        expect(recorded.map((a) => [a.kind, a.ref, a.resolved_by !== null])).toEqual(
          report.findings.map((f) => [f.kind, `2024-01-01:${f.ref}`, !f.needsPerson]),
        );
        expect(report.findings.map((f) => f.anomalyId)).toEqual(recorded.map((a) => a.id));

        // Each finding is announced once to the shop's backend, written with the report.
        const events = await mismatchEvents();
        expect(events.map((e) => e.data.object.kind).sort()).toEqual(Object.keys(byKind).sort());
        expect(events.find((e) => e.data.object.kind === 'bill_amount_mismatch')?.data.object).toMatchObject({
          object: 'reconciliation_mismatch',
          billDate: '2024-01-01',
          outTradeNo: made.altered.outTradeNo,
          details: { needsPerson: true, bill: { amount: 2800 }, ours: { amount: 2700 } },
        });
      });

      it('a rerun (POST /admin/reconciliations) replaces the report and duplicates no anomaly', async () => {
        const before = await anomalies();
        const res = await h.api(
          'POST',
          '/admin/reconciliations',
          undefined,
          { date: '2024-01-01' },
          { authorization: admin },
        );
        expect(res.status, await res.clone().text()).toBe(200);
        const { report } = (await res.json()) as {
          report: { status: string; updatedAt: string | null; summary: ReconciliationReport };
        };
        expect(report.status).toBe('needs_attention');
        expect(report.updatedAt).not.toBeNull();
        // What the first run settled now agrees; what a person must look at is still there.
        expect(report.summary.findings.map((f) => f.kind).sort()).toEqual([
          'bill_amount_mismatch',
          'bill_missing_payment',
          'bill_refund_amount_mismatch',
        ]);
        expect(await anomalies()).toEqual(before);
        expect(await mismatchEvents()).toHaveLength(5);

        const list = await h.api('GET', '/admin/reconciliations', undefined, undefined, {
          authorization: admin,
        });
        expect(((await list.json()) as { total: number }).total).toBe(1);
        const one = await h.api('GET', '/admin/reconciliations/2024-01-01', undefined, undefined, {
          authorization: admin,
        });
        expect(
          ((await one.json()) as { report: { summary: ReconciliationReport } }).report.summary.counts,
        ).toEqual({
          findings: 3,
          needPerson: 3,
          settled: 0,
        });
      });

      it('refuses a day that has not ended, a date that is not one, and reports a missing report', async () => {
        const post = (date: unknown) =>
          h.api('POST', '/admin/reconciliations', undefined, { date }, { authorization: admin });
        for (const [date, code] of [
          ['2024-01-02', 'VALIDATION_ERROR'],
          ['2024-02-30', 'VALIDATION_ERROR'],
          ['20240101', 'VALIDATION_ERROR'],
        ] as const) {
          const res = await post(date);
          expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([400, code]);
        }
        const missing = await h.api('GET', '/admin/reconciliations/2023-12-31', undefined, undefined, {
          authorization: admin,
        });
        expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([
          404,
          'RECONCILIATION_NOT_FOUND',
        ]);
      });

      it('a day with no bill at WeChat (nothing paid) is clean when we hold nothing paid either', async () => {
        const res = await h.api(
          'POST',
          '/admin/reconciliations',
          undefined,
          { date: '2023-12-31' },
          { authorization: admin },
        );
        expect(res.status, await res.clone().text()).toBe(200);
        const { report } = (await res.json()) as {
          report: { status: string; summary: ReconciliationReport };
        };
        expect(report.status).toBe('clean');
        expect(report.summary).toMatchObject({ bill: { rows: 0 }, findings: [] });
      });

      it('says the bill is not ready when WeChat is still generating it', async () => {
        // The simulator makes a day's bill 10 hours after the day ends; 2024-01-02 has ended only at 16:00 UTC.
        await h.clock.advance(Date.UTC(2024, 0, 2, 16, 30) - h.clock.now());
        const res = await h.api(
          'POST',
          '/admin/reconciliations',
          undefined,
          { date: '2024-01-02' },
          { authorization: admin },
        );
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('600');
        expect(((await res.json()) as { code: string }).code).toBe('BILL_NOT_READY');
      });
    });
  }
}
