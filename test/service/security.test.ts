import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { API_VERSIONS, CREDENTIALS, type Harness, NOTIFY_PATHS, SECRETS, startHarness } from './harness.js';

// Authentication does not depend on the database: one dialect is enough here.
const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;

for (const version of API_VERSIONS)
  describe(`security of the HTTP API, API ${version}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    const responses: string[] = [];

    beforeAll(async () => {
      db = await sqlite.openMigrated();
      h = await startHarness(db, { version, env: { LOGIN_RATE_PER_MINUTE: '5' } });
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
    });

    async function call(method: string, path: string, token?: string, body?: unknown) {
      const res = await h.api(method, path, token, body);
      // An event stream never ends: its status and headers are the answer; leaving closes it.
      const streaming = res.headers.get('content-type')?.startsWith('text/event-stream');
      const text = streaming ? '' : await res.text();
      if (streaming) await res.body?.cancel();
      responses.push(JSON.stringify([...res.headers]), text);
      return { status: res.status, text, headers: res.headers };
    }

    it('walks every route: only login, the notification, health and the docs viewer shell answer without a login', async () => {
      const { token } = await h.login();
      const routes = h.app.routeTable;
      expect(routes.length).toBeGreaterThan(8);
      const publicRoutes = routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`);
      expect(publicRoutes.sort()).toEqual([
        'DELETE /admin/session',
        'GET /admin',
        'GET /admin/static/:file',
        'GET /docs',
        'GET /docs/static/:file',
        'GET /healthz',
        'POST /admin/session',
        'POST /api/login',
        ...(version === 'v2' ? ['POST /payment/refundnotify'] : []),
        `POST ${NOTIFY_PATHS[version]}`,
      ]);

      for (const r of routes) {
        const path = r.url.replace(':id', 'some-order').replace(':file', 'swagger-ui.css');
        if (r.auth === 'admin') {
          expect((await call(r.method, path)).status, `${r.method} ${r.url} without a token`).toBe(401);
          expect((await call(r.method, path, token)).status, `${r.method} ${r.url} with a user token`).toBe(
            403,
          );
          // Past authentication: a made-up id may be a 404 and a missing body a 400, never 401/403.
          const admitted = (await call(r.method, path, CREDENTIALS.adminToken)).status;
          expect(admitted, `${r.method} ${r.url} with the admin token`).toBeLessThan(500);
          expect([401, 403]).not.toContain(admitted);
        } else if (r.auth === 'user') {
          expect((await call(r.method, path)).status, `${r.method} ${r.url} without a token`).toBe(401);
          expect((await call(r.method, path, `${token}x`)).status, 'a tampered token').toBe(401);
        } else if (r.auth === 'apikey') {
          // The server API opens to an API key only: neither a session nor the admin token will do.
          for (const other of [undefined, token, CREDENTIALS.adminToken]) {
            expect(
              (await call(r.method, path, other)).status,
              `${r.method} ${r.url} without an API key`,
            ).toBe(401);
          }
        }
      }
    });

    it('refuses expired and unknown session tokens', async () => {
      const { token } = await h.login();
      expect((await call('GET', '/api/products', token)).status).toBe(200);
      await h.clock.advance(h.config.sessionTtlMs + 1000);
      expect((await call('GET', '/api/products', token)).status).toBe(401);
      expect((await call('GET', '/api/products', 'A'.repeat(43))).status).toBe(401);
    });

    it('maps code2Session failures to 401, 503 and 429 without making a session', async () => {
      const users = async () => (await db.db.selectFrom('users').select('id').execute()).length;
      const before = await users();
      expect((await call('POST', '/api/login', undefined, { code: 'never-issued' })).status).toBe(401);

      const { json } = await h.sim('/sim/login', {});
      const code = (json as { code: string }).code;
      await h.sim('/sim/faults', { fault: 'LOGIN_SYSTEM_ERROR', api: 'jscode2session', times: 1 });
      const busy = await call('POST', '/api/login', undefined, { code });
      expect(busy.status).toBe(503);
      expect(JSON.parse(busy.text).code).toBe('UPSTREAM_UNAVAILABLE');
      const used = await call('POST', '/api/login', undefined, { code });
      expect([200, 401]).toContain(used.status);

      await h.sim('/sim/faults', { fault: 'LOGIN_RATE_LIMIT', api: 'jscode2session', times: 1 });
      const fresh = (await h.sim('/sim/login', {})).json as { code: string };
      const limited = await call('POST', '/api/login', undefined, { code: fresh.code });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^[0-9]+$/);
      expect(await users()).toBeLessThanOrEqual(before + 1);
    });

    it('rate-limits login bursts from one address with Retry-After', async () => {
      await h.clock.advance(61_000);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await call('POST', '/api/login', undefined, { code: `junk-${i}` })).status);
      expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
      const limited = await call('POST', '/api/login', undefined, { code: 'junk-last' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('documents every API route in the OpenAPI document, and reports health and metrics', async () => {
      const docs = await call('GET', '/docs/json', CREDENTIALS.adminToken);
      expect(docs.status).toBe(200);
      const paths = Object.keys(JSON.parse(docs.text).paths).sort();
      expect(paths).toEqual([
        '/admin/anomalies',
        '/admin/anomalies/{id}/resolve',
        '/admin/api-keys',
        '/admin/api-keys/{id}/revoke',
        '/admin/audit',
        '/admin/events',
        '/admin/events/stream',
        '/admin/events/{id}',
        '/admin/events/{id}/resend',
        '/admin/logs',
        '/admin/orders',
        '/admin/orders.csv',
        '/admin/orders/{id}',
        '/admin/orders/{id}/refunds',
        '/admin/orders/{id}/sync',
        '/admin/reconciliations',
        '/admin/reconciliations/{date}',
        '/admin/session',
        '/admin/summary',
        '/admin/webhooks',
        '/admin/webhooks/{id}',
        '/admin/webhooks/{id}/disable',
        '/admin/webhooks/{id}/enable',
        '/admin/webhooks/{id}/rotate-secret',
        '/admin/wechat',
        '/api/login',
        '/api/orders',
        '/api/orders/{id}',
        '/api/orders/{id}/close',
        '/api/orders/{id}/events',
        '/api/orders/{id}/sync',
        '/api/products',
        '/healthz',
        '/metrics',
        '/v1/code2session',
        '/v1/events',
        '/v1/payments',
        '/v1/payments/{id}',
        '/v1/payments/{id}/close',
        '/v1/payments/{id}/refunds',
      ]);
      const health = await call('GET', '/healthz');
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', database: 'ok' });

      await h.clock.advance(61_000); // past the login rate limit the previous test used up
      const { token } = await h.login();
      await call('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 });
      const metrics = await call('GET', '/metrics', CREDENTIALS.adminToken);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(metrics.text).toMatch(/^weapp_pay_orders\{state="PENDING"\} [1-9][0-9]*$/m);
      expect(metrics.text).toMatch(/^weapp_pay_orders\{state="PAID"\} [0-9]+$/m);
      expect(metrics.text).toMatch(
        /^weapp_pay_upstream_requests_total\{api="unifiedorder",outcome="ok"\} [1-9]/m,
      );
      expect(metrics.text).toMatch(/^weapp_pay_upstream_duration_seconds_count\{api="unifiedorder"\} [1-9]/m);
    });

    it('serves the API viewer shell and Swagger UI publicly, and the OpenAPI document to admins only', async () => {
      const page = await call('GET', '/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.text).toContain('/docs/static/swagger-ui-bundle.js');
      expect(page.text).toContain("'/docs/json'");
      // The public shell names no route: what the API holds stays behind the admin token.
      expect(page.text).not.toContain('/api/orders');
      const bundle = await call('GET', '/docs/static/swagger-ui-bundle.js');
      expect(bundle.status).toBe(200);
      expect(bundle.text).toContain('SwaggerUIBundle');
      for (const path of [
        '/docs/static/package.json',
        '/docs/static/..%2f..%2fpackage.json',
        '/docs/static/index.html',
      ]) {
        expect((await call('GET', path)).status, path).toBe(404);
      }
      const anonymous = await call('GET', '/docs/json');
      expect(anonymous.status).toBe(401);
      expect(anonymous.text).not.toContain('/api/orders');
    });

    it('never returns session_key, and no response or log line carries a secret', async () => {
      await h.clock.advance(61_000);
      const login = await call('POST', '/api/login', undefined, {
        code: ((await h.sim('/sim/login', {})).json as { code: string }).code,
      });
      expect(Object.keys(JSON.parse(login.text)).sort()).toEqual(['expiresIn', 'token']);
      const token = JSON.parse(login.text).token as string;
      await call('POST', '/api/orders', token, { sku: 'coffee', quantity: 1 });
      await call('GET', '/metrics', CREDENTIALS.adminToken);
      await call('GET', '/docs/json', CREDENTIALS.adminToken);
      await call('GET', '/no-such-route');

      const everything = [...responses, ...h.logs].join('\n');
      for (const secret of SECRETS) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/session_?key/i);
      // Tokens travel in headers only, and headers are redacted in logs.
      expect(h.logs.join('\n')).not.toContain(token);
    });
  });
