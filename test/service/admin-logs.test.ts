/**
 * GET /admin/logs (the recent request and notification log), GET /admin/wechat and
 * POST /admin/orders/:id/sync against the real service and the simulator over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/observability/log-ring.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { API_VERSIONS, CREDENTIALS, type Harness, NOTIFY_PATHS, SECRETS, startHarness } from './harness.js';

type Entry = Omit<LogEntry, 'time'> & { time: string };
type Logs = { entries: Entry[]; next: number; capacity: number };

const admin = CREDENTIALS.adminToken;

for (const database of testDatabases()) {
  for (const version of API_VERSIONS) {
    describe(`the admin log and tools on ${database.name}, API ${version}`, () => {
      let db: TestDbHandle;
      let h: Harness;

      async function logs(query = ''): Promise<Logs> {
        const res = await h.api('GET', `/admin/logs${query}`, admin);
        const text = await res.text();
        expect(res.status, text).toBe(200);
        for (const secret of SECRETS) expect(text).not.toContain(secret);
        return JSON.parse(text) as Logs;
      }

      async function buy(token: string) {
        const res = await h.api('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 });
        expect(res.status).toBe(201);
        return (await res.json()) as {
          order: { id: string; outTradeNo: string };
          payment: { package: string };
        };
      }

      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);

      beforeAll(async () => {
        db = await database.openMigrated();
        process.on('warning', onWarning);
        try {
          h = await startHarness(db, { version });
        } finally {
          process.off('warning', onWarning);
        }
      });
      afterAll(async () => {
        await h?.close();
        await db?.close();
      });

      it("records the order's requests and its notification, with outcome and order id, and nothing secret", async () => {
        const { token } = await h.login();
        const { order, payment } = await buy(token);
        await h.sim('/sim/pay', { prepay_id: payment.package.slice('prepay_id='.length), result: 'SUCCESS' });
        await h.clock.settle();
        expect((await h.api('GET', `/api/orders/${order.id}?token=${admin}`, token)).status).toBe(200);

        const { entries } = await logs(`?order=${order.id}`);
        expect(entries.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
          'POST /api/orders 201',
          `POST ${NOTIFY_PATHS[version]} ${version === 'v3' ? 204 : 200}`,
          `GET /api/orders/${order.id} 200`,
        ]);
        const [created, notified, read] = entries as [Entry, Entry, Entry];
        expect(created).toMatchObject({ kind: 'request', level: 'info', outcome: null, orderId: order.id });
        expect(notified).toMatchObject({ kind: 'notification', level: 'info', outcome: 'paid' });
        // The query string (here carrying a token) is never kept.
        expect(read.path).not.toContain('?');
        expect(Number.isNaN(Date.parse(read.time))).toBe(false);
        expect(read.durationMs).toBeGreaterThanOrEqual(0);
        expect(created.seq).toBeLessThan(notified.seq);
      });

      it('starts without a deprecation warning from its options', () => {
        expect(warnings.filter((w) => /deprecat/i.test(w))).toEqual([]);
      });

      it("writes one log line per answered request, with its request id, and not Fastify's two", async () => {
        const from = h.logs.length;
        const { token } = await h.login();
        const { order } = await buy(token);
        expect((await h.api('GET', `/api/orders/${order.id}?token=${admin}`, token)).status).toBe(200);
        expect((await h.api('GET', '/healthz')).status).toBe(200);
        const lines = h.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toEqual(
          [],
        );
        const access = lines.filter((l) => l.msg === 'request');
        const created = access.find((l) => l.path === '/api/orders');
        expect(created).toMatchObject({ level: 30, method: 'POST', status: 201, orderId: order.id });
        expect(created?.reqId).toEqual(expect.any(String));
        expect(created?.ms).toEqual(expect.any(Number));
        // The query string, here a token in the wrong place, never reaches the line.
        const read = access.find((l) => l.path === `/api/orders/${order.id}`);
        expect(read).toMatchObject({ level: 30, method: 'GET', status: 200 });
        expect(JSON.stringify(access)).not.toContain(admin);
        // A health check is a debug line: at the default level it writes nothing.
        expect(access.find((l) => l.path === '/healthz')).toMatchObject({ level: 20, status: 200 });
        // Each request's line carries its own id.
        expect(new Set(access.map((l) => l.reqId)).size).toBe(access.length);
      });

      it('logs a refusal as a warning with its error code, and filters by the lowest level', async () => {
        const { token } = await h.login();
        expect((await h.api('GET', '/api/orders/no-such-order', token)).status).toBe(404);
        const warnings = (await logs('?level=warn')).entries;
        expect(warnings.every((e) => e.level === 'warn' || e.level === 'error')).toBe(true);
        expect(warnings.at(-1)).toMatchObject({
          path: '/api/orders/no-such-order',
          status: 404,
          outcome: 'ORDER_NOT_FOUND',
          orderId: 'no-such-order',
        });
      });

      it('answers only newer entries after `next`, and does not log its own polling', async () => {
        const first = await logs();
        expect(first.capacity).toBeGreaterThanOrEqual(1000);
        expect((await logs(`?after=${first.next}`)).entries).toEqual([]);
        await h.api('GET', '/api/products');
        const newer = await logs(`?after=${first.next}`);
        expect(newer.entries.map((e) => e.path)).toEqual(['/api/products']);
        expect(newer.next).toBeGreaterThan(first.next);
      });

      it('refuses a bad limit or level, and anyone without the admin token', async () => {
        for (const query of ['?limit=0', '?limit=5000', '?level=loud', '?after=-1']) {
          const res = await h.api('GET', `/admin/logs${query}`, admin);
          expect(res.status, query).toBe(400);
          expect(((await res.json()) as { code: string }).code).toBe('VALIDATION_ERROR');
        }
        expect((await h.api('GET', '/admin/logs')).status).toBe(401);
        const { token } = await h.login();
        expect((await h.api('GET', '/admin/logs', token)).status).toBe(403);
      });

      it('GET /admin/wechat names the hosts and ids the service uses, and no secret', async () => {
        const res = await h.api('GET', '/admin/wechat', admin);
        const text = await res.text();
        expect(res.status).toBe(200);
        for (const secret of SECRETS) expect(text).not.toContain(secret);
        expect(JSON.parse(text)).toEqual({
          apiVersion: version,
          appid: CREDENTIALS.appid,
          mchId: CREDENTIALS.mchId,
          payBaseUrl: h.simulatorUrl,
          apiBaseUrl: h.simulatorUrl,
          notifyUrl: `${h.serviceUrl}${NOTIFY_PATHS[version]}`,
        });
      });

      it('POST /admin/orders/:id/sync settles a payment whose notifications were dropped', async () => {
        const { token } = await h.login();
        const { order, payment } = await buy(token);
        const paid = await fetch(`${h.simulatorUrl}/sim/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-sim-fault': 'NOTIFY_DROP' },
          body: JSON.stringify({ prepay_id: payment.package.slice('prepay_id='.length), result: 'SUCCESS' }),
        });
        expect(paid.status).toBe(200);
        await h.clock.settle();
        const pending = (await (await h.api('GET', `/admin/orders/${order.id}`, admin)).json()) as {
          order: { status: string };
        };
        expect(pending.order.status).toBe('PENDING');
        const synced = await h.api('POST', `/admin/orders/${order.id}/sync`, admin);
        expect(synced.status).toBe(200);
        expect(((await synced.json()) as { order: { status: string } }).order.status).toBe('PAID');
        const missing = await h.api('POST', '/admin/orders/no-such-order/sync', admin);
        expect(missing.status).toBe(404);
        expect((await h.api('POST', `/admin/orders/${order.id}/sync`, token)).status).toBe(403);
      });
    });
  }
}
