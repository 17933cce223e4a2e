import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/index.js';
import { buildPaymentNotification } from '../../src/wechat/v2/notify.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, paymentNotificationFields, SECRETS, startHarness } from './harness.js';

type Order = { id: string; outTradeNo: string; amount: number; status: string; transactionId: string | null };
type Page = { orders: Order[]; page: number; limit: number; total: number };
type Anomaly = {
  id: number;
  kind: string;
  ref: string;
  resolvedAt: number | null;
  resolvedBy: string | null;
};

for (const database of testDatabases()) {
  describe(`admin API on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    const created: Order[] = [];
    const admin = CREDENTIALS.adminToken;

    async function get<T>(path: string, status = 200): Promise<T> {
      const res = await h.api('GET', path, admin);
      const text = await res.text();
      expect(res.status, `${path}: ${text}`).toBe(status);
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      return JSON.parse(text) as T;
    }

    async function buy(token: string, sku: string) {
      const res = await h.api('POST', '/api/orders', token, { sku, quantity: 1 });
      expect(res.status).toBe(201);
      return (await res.json()) as { order: Order; payment: { package: string } };
    }

    beforeAll(async () => {
      db = await database.openMigrated();
      // The merchant certificate lets the service refund (v2 refunds are mutual TLS).
      const certs = await generateTestCertificates({ mchId: CREDENTIALS.mchId });
      h = await startHarness(db, {
        env: { WECHAT_MCH_CERT: certs.clientCert, WECHAT_MCH_CERT_KEY: certs.clientKey },
      });
      // 2024-01-01 12:00 Beijing: a coffee (1 fen) that gets paid, then two lattes (2800 fen).
      const { token } = await h.login();
      const coffee = await buy(token, 'coffee');
      await h.sim('/sim/pay', { prepay_id: coffee.payment.package.slice(10), result: 'SUCCESS' });
      await h.clock.settle();
      await h.clock.advance(60_000);
      const latte = await buy(token, 'latte');
      await h.clock.advance(60_000);
      const latte2 = await buy(token, 'latte');
      created.push(coffee.order, latte.order, latte2.order);
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
    });

    it('lists orders newest first, with each filter narrowing the list', async () => {
      const all = await get<Page>('/admin/orders');
      expect(all.orders.map((o) => o.id)).toEqual(created.map((o) => o.id).reverse());
      expect(all).toMatchObject({ page: 1, limit: 50, total: 3 });

      const paid = await get<Page>('/admin/orders?status=PAID');
      expect(paid.orders.map((o) => o.id)).toEqual([created[0]!.id]);
      const txn = paid.orders[0]!.transactionId!;
      expect((await get<Page>(`/admin/orders?transaction_id=${txn}`)).total).toBe(1);
      expect((await get<Page>(`/admin/orders?out_trade_no=${created[1]!.outTradeNo}`)).orders[0]!.id).toBe(
        created[1]!.id,
      );
      expect((await get<Page>('/admin/orders?minAmount=2800')).total).toBe(2);
      expect((await get<Page>('/admin/orders?maxAmount=1')).total).toBe(1);
      expect((await get<Page>('/admin/orders?minAmount=2&maxAmount=2799')).total).toBe(0);
      // Bare dates are Beijing days: all three orders were made on 2024-01-01 around noon there.
      expect((await get<Page>('/admin/orders?from=2024-01-01&to=2024-01-01')).total).toBe(3);
      expect((await get<Page>('/admin/orders?from=2024-01-02')).total).toBe(0);
      expect((await get<Page>('/admin/orders?to=2023-12-31')).total).toBe(0);
      // The second latte was made at 04:02 UTC; a range ending at 04:01 leaves it out.
      expect((await get<Page>('/admin/orders?from=2024-01-01T04:00:30Z&to=2024-01-01T04:01:00Z')).total).toBe(
        1,
      );
    });

    it('pages with page and limit, up to a hard cap of 200', async () => {
      const first = await get<Page>('/admin/orders?limit=2&page=1');
      const second = await get<Page>('/admin/orders?limit=2&page=2');
      const beyond = await get<Page>('/admin/orders?limit=2&page=3');
      expect(first.orders).toHaveLength(2);
      expect(second.orders).toHaveLength(1);
      expect(beyond).toMatchObject({ orders: [], total: 3, page: 3 });
      expect([...first.orders, ...second.orders].map((o) => o.id)).toEqual(
        created.map((o) => o.id).reverse(),
      );
      expect((await get<Page>('/admin/orders?limit=200')).limit).toBe(200);
    });

    it.each([
      ['limit=201', 'limit must be 1 to 200'],
      ['limit=0', 'limit must be 1 to 200'],
      ['page=0', 'page starts at 1'],
      ['limit=ten', 'limit'],
      ['status=SHIPPED', 'status must be one of'],
      ['from=2024-02-30', 'from must be a real date'],
      ['to=yesterday', 'to must be a date'],
      ['from=2024-01-01T12:00:00', 'from must be a date'],
      ['from=2024-01-02&to=2024-01-01', 'from must be before to'],
      ['minAmount=5&maxAmount=4', 'minAmount must not be above maxAmount'],
      ['minAmount=-1', 'minAmount'],
    ])('refuses %s with a 400 that says what is wrong', async (query, message) => {
      // The export takes the same filters (page and limit do not apply to it).
      const paths = /page|limit/.test(query) ? ['/admin/orders'] : ['/admin/orders', '/admin/orders.csv'];
      for (const path of paths) {
        const body = await get<{ code: string; message: string }>(`${path}?${query}`, 400);
        expect(body.code).toBe('VALIDATION_ERROR');
        expect(body.message).toContain(message);
      }
    });

    it('shows an order with its whole timeline and the verified raw fields', async () => {
      const paid = created[0]!;
      const view = await get<{
        order: Order;
        timeline: { kind: string; type: string; data: Record<string, unknown> }[];
        refunds: unknown[];
      }>(`/admin/orders/${paid.id}`);
      expect(view.order).toMatchObject({ id: paid.id, status: 'PAID' });
      expect(view.timeline.filter((t) => t.kind === 'event').map((t) => t.type)).toEqual(
        expect.arrayContaining(['created', 'prepaid', 'notification_received', 'state_changed']),
      );
      const evidence = view.timeline.find((t) => t.kind === 'evidence');
      expect(evidence?.type).toBe('notification');
      expect(evidence?.data.raw).toMatchObject({
        out_trade_no: paid.outTradeNo,
        transaction_id: view.order.transactionId,
        total_fee: '1',
      });
      expect(view.refunds).toEqual([]);

      const missing = await get<{ code: string }>('/admin/orders/no-such-order', 404);
      expect(missing.code).toBe('ORDER_NOT_FOUND');
    });

    it('exports CSV with proper quoting and spreadsheet formulas defused', async () => {
      await db.db
        .updateTable('orders')
        .set({ description: '=HYPERLINK("http://evil","click"), then "quotes"\nand a line' })
        .where('id', '=', created[1]!.id)
        .execute();
      const res = await h.api('GET', '/admin/orders.csv?minAmount=2800', admin);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="orders.csv"');
      // A UTF-8 byte order mark first, so Excel reads the Chinese descriptions as UTF-8.
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.subarray(3).toString('utf8');
      expect(text.startsWith('id,out_trade_no,transaction_id,status,')).toBe(true);
      expect(text).toContain(
        `,"'=HYPERLINK(""http://evil"",""click""), then ""quotes""\nand a line",2800,CNY,`,
      );
      expect(text.split('\r\n').filter(Boolean)).toHaveLength(3); // header and two lattes
      expect(text).not.toContain(created[0]!.id);
    });

    it('queues anomalies, resolves one once with who and when, and drops it from the open queue', async () => {
      const fields = paymentNotificationFields(
        { outTradeNo: 'NOSUCHORDER', amount: 5 },
        'o-x',
        '4200000000000000000000000001',
      );
      const notify = await fetch(`${h.serviceUrl}/payment/wxnotify`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: buildPaymentNotification(fields, CREDENTIALS.key, 'HMAC-SHA256'),
      });
      expect(await notify.text()).toContain('FAIL');

      const open = await get<{ anomalies: Anomaly[]; total: number }>('/admin/anomalies');
      expect(open.anomalies).toHaveLength(1);
      expect(open.anomalies[0]).toMatchObject({
        kind: 'unknown_out_trade_no',
        ref: 'NOSUCHORDER',
        resolvedAt: null,
      });
      expect((await get<{ total: number }>('/admin/anomalies?kind=paid_after_close')).total).toBe(0);
      const id = open.anomalies[0]!.id;

      const blank = await h.api('POST', `/admin/anomalies/${id}/resolve`, admin, { note: '   ' });
      expect(blank.status).toBe(400);
      await h.clock.advance(1000);
      const done = await h.api('POST', `/admin/anomalies/${id}/resolve`, admin, {
        note: 'test payment, refunded by hand',
      });
      expect(done.status).toBe(200);
      expect(((await done.json()) as { anomaly: Anomaly }).anomaly).toMatchObject({
        resolvedBy: 'admin',
        resolvedAt: h.clock.now(),
      });
      const row = await db.db
        .selectFrom('anomalies')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({
        resolved_by: 'admin',
        resolved_at: h.clock.now(),
        resolution_note: 'test payment, refunded by hand',
      });

      expect((await get<{ total: number }>('/admin/anomalies')).total).toBe(0);
      expect((await get<{ total: number }>('/admin/anomalies?state=resolved')).total).toBe(1);
      expect((await get<{ total: number }>('/admin/anomalies?state=all')).total).toBe(1);

      const again = await h.api('POST', `/admin/anomalies/${id}/resolve`, admin, { note: 'me too' });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { code: string }).code).toBe('ANOMALY_ALREADY_RESOLVED');
      const unchanged = await db.db
        .selectFrom('anomalies')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(unchanged.resolution_note).toBe('test payment, refunded by hand');
      const missing = await h.api('POST', '/admin/anomalies/999999/resolve', admin, { note: 'x' });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { code: string }).code).toBe('ANOMALY_NOT_FOUND');
      expect((await get<{ code: string }>('/admin/anomalies?state=closed', 400)).code).toBe(
        'VALIDATION_ERROR',
      );
    });

    it('sums a Beijing day from the database', async () => {
      const today = await get<Record<string, unknown>>('/admin/summary');
      expect(today).toEqual(await get('/admin/summary?date=2024-01-01'));
      expect(today).toMatchObject({
        date: '2024-01-01',
        from: '2023-12-31T16:00:00.000Z',
        to: '2024-01-01T16:00:00.000Z',
        created: 3,
        paid: { count: 1, amount: 1 },
        refunds: { count: 0, amount: 0 },
        pending: 2,
        notifications: { accepted: 1, applied: 1, duplicates: 0, refused: { unknown_out_trade_no: 1 } },
        anomalies: { unknown_out_trade_no: 1 },
        statuses: { PAID: 1, PENDING: 2 },
      });
      expect(await get('/admin/summary?date=2024-01-02')).toMatchObject({
        created: 0,
        paid: { count: 0, amount: 0 },
        notifications: { accepted: 0, refused: {} },
      });
      expect((await get<{ message: string }>('/admin/summary?date=2024-1-2', 400)).message).toContain(
        'YYYY-MM-DD',
      );
    });

    it('lists stored reconciliation reports: none yet', async () => {
      expect(await get('/admin/reconciliations')).toEqual({ reports: [], page: 1, limit: 50, total: 0 });
      await db.db
        .insertInto('reconciliation_reports')
        .values({
          bill_date: '2024-01-01',
          status: 'clean',
          summary: '{"orders":1}',
          created_at: 1,
          updated_at: null,
        })
        .execute();
      expect(await get('/admin/reconciliations')).toMatchObject({
        reports: [{ billDate: '2024-01-01', status: 'clean', summary: { orders: 1 }, updatedAt: null }],
        total: 1,
      });
    });

    it("lists an order's refunds and counts the day's successful ones", async () => {
      const paid = created[0]!;
      const res = await h.api(
        'POST',
        `/admin/orders/${paid.id}/refunds`,
        admin,
        { amount: 1, reason: '测试' },
        {
          'idempotency-key': `console-refund-${database.name}`,
        },
      );
      expect(res.status, await res.clone().text()).toBe(201);
      await h.clock.advance(61_000); // the simulator's refund turns SUCCESS, and notifies
      await h.clock.settle();
      const view = await get<{ order: Order; refunds: { amount: number; status: string; reason: string }[] }>(
        `/admin/orders/${paid.id}`,
      );
      expect(view.order.status).toBe('REFUNDED');
      expect(view.refunds).toEqual([
        expect.objectContaining({ amount: 1, reason: '测试', status: 'SUCCESS' }),
      ]);
      expect(await get('/admin/summary?date=2024-01-01')).toMatchObject({ refunds: { count: 1, amount: 1 } });
    });
  });
}
