/**
 * Every refusal tells the caller what to fix: the content type to send, the missing "Bearer "
 * prefix, the methods a known path takes. Through app.inject(), on the real app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { type Harness, startHarness } from './harness.js';

const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;

describe('API errors say what to fix', () => {
  let db: TestDbHandle;
  let h: Harness;
  let token: string;

  beforeAll(async () => {
    db = await sqlite.openMigrated();
    h = await startHarness(db);
    ({ token } = await h.login());
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });

  const orderCount = async () => (await db.db.selectFrom('orders').select('id').execute()).length;

  it('415 on the API names application/json, and creates nothing', async () => {
    const before = await orderCount();
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/orders',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        payload: '{"sku":"coffee","quantity":1}',
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json()).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Send the body as JSON with the header Content-Type: application/json.',
      });
    }
    expect(await orderCount()).toBe(before);
  });

  it('415 on the notification route names the XML types, in XML', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/payment/wxnotify',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.body).toBe(
      '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[Send Content-Type: text/xml or application/xml]]></return_msg></xml>',
    );
  });

  it('a token without "Bearer " is refused with a message that says so, on user and admin routes', async () => {
    for (const url of ['/api/products', '/metrics']) {
      const res = await h.app.inject({ method: 'GET', url, headers: { authorization: token } });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toEqual({
        code: 'UNAUTHORIZED',
        message: 'The Authorization header must read "Bearer <token>": the "Bearer " prefix is missing.',
      });
    }
    const ok = await h.app.inject({
      method: 'GET',
      url: '/api/products',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });

  it('the wrong method on every registered path is 405 with Allow, never 404', async () => {
    const byPath = new Map<string, Set<string>>();
    for (const r of h.app.routeTable) {
      if (r.url.includes('*')) continue;
      const methods = byPath.get(r.url) ?? new Set<string>();
      methods.add(r.method);
      if (r.method === 'GET') methods.add('HEAD');
      byPath.set(r.url, methods);
    }
    expect(byPath.size).toBeGreaterThan(8);
    for (const [url, methods] of byPath) {
      const wrong = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].find((m) => !methods.has(m))!;
      const path = url.replace(':id', 'some-order');
      const res = await h.app.inject({ method: wrong as 'PUT', url: path });
      expect(res.statusCode, `${wrong} ${url}`).toBe(405);
      expect(res.headers.allow, url).toBe([...methods].sort().join(', '));
      expect(res.json().code).toBe('METHOD_NOT_ALLOWED');
      expect(res.json().message).toContain(`this path takes ${[...methods].sort().join(', ')}`);
    }
    const unknown = await h.app.inject({ method: 'DELETE', url: '/api/nowhere' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers.allow).toBeUndefined();
  });

  it('a URL that is not valid percent-encoding is a 400 in the usual shape, saying how to encode', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/orders/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'VALIDATION_ERROR',
      message: 'The URL is not valid percent-encoding: encode each byte as %XX.',
    });
  });

  it('405 on a real socket, as a browser or curl sees it', async () => {
    const res = await fetch(`${h.serviceUrl}/api/login`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(((await res.json()) as { code: string }).code).toBe('METHOD_NOT_ALLOWED');
  });
});
