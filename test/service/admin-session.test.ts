import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from './harness.js';

// The cookie is checked without the database (it is signed); one dialect is enough here.
const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;

describe('console sign-in cookie and CSRF', () => {
  let db: TestDbHandle;
  let h: Harness;
  let anomalyId: number;

  beforeAll(async () => {
    db = await sqlite.openMigrated();
    h = await startHarness(db);
    const row = await db.db
      .insertInto('anomalies')
      .values({ kind: 'paid_after_close', ref: 'X1', order_id: null, data: '{}', created_at: h.clock.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    anomalyId = row.id;
  });
  afterAll(async () => {
    await h?.close();
    await db?.close();
  });

  async function signIn(name = 'alice') {
    const res = await h.api('POST', '/admin/session', undefined, { token: CREDENTIALS.adminToken, name });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    const body = (await res.json()) as { name: string; csrfToken: string };
    return { setCookie, cookie: setCookie.split(';')[0]!, ...body };
  }

  it('sets an HttpOnly SameSite=Strict cookie that holds a signed session id, never the token', async () => {
    const wrong = await h.api('POST', '/admin/session', undefined, { token: 'not-it' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const s = await signIn();
    expect(s.setCookie).toMatch(
      /^weapp_pay_console=[^;]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(s.setCookie).not.toContain(CREDENTIALS.adminToken);
    expect(s.name).toBe('alice');
    // Plain HTTP here, so not Secure; over HTTPS (request.protocol, TRUST_PROXY aware) it adds Secure.
    expect(s.setCookie).not.toContain('Secure');

    const me = await h.api('GET', '/admin/session', undefined, undefined, { cookie: s.cookie });
    expect(await me.json()).toMatchObject({ name: 'alice', csrfToken: s.csrfToken });
    expect((await h.api('GET', '/admin/orders', undefined, undefined, { cookie: s.cookie })).status).toBe(
      200,
    );
  });

  it('refuses a tampered, foreign or expired cookie', async () => {
    const s = await signIn();
    const [name, value] = s.cookie.split('=') as [string, string];
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await h.api('GET', '/admin/orders', undefined, undefined, { cookie: tampered })).status).toBe(
      401,
    );
    await h.clock.advance(8 * 60 * 60 * 1000 + 1);
    expect((await h.api('GET', '/admin/orders', undefined, undefined, { cookie: s.cookie })).status).toBe(
      401,
    );
  });

  it('needs the CSRF header and a same-site Origin on a cookie POST, and records the console name', async () => {
    const s = await signIn('小王');
    const path = `/admin/anomalies/${anomalyId}/resolve`;
    const noHeader = await h.api('POST', path, undefined, { note: 'x' }, { cookie: s.cookie });
    expect(noHeader.status).toBe(403);
    const foreign = await h.api(
      'POST',
      path,
      undefined,
      { note: 'x' },
      { cookie: s.cookie, 'x-csrf-token': s.csrfToken, origin: 'https://evil.example' },
    );
    expect(foreign.status).toBe(403);
    const other = await signIn('bob');
    const wrongToken = await h.api(
      'POST',
      path,
      undefined,
      { note: 'x' },
      { cookie: s.cookie, 'x-csrf-token': other.csrfToken },
    );
    expect(wrongToken.status).toBe(403);
    expect(
      (await db.db.selectFrom('anomalies').select('resolved_at').executeTakeFirstOrThrow()).resolved_at,
    ).toBeNull();

    const ok = await h.api(
      'POST',
      path,
      undefined,
      { note: 'checked' },
      { cookie: s.cookie, 'x-csrf-token': s.csrfToken, origin: h.serviceUrl },
    );
    expect(ok.status).toBe(200);
    const row = await db.db.selectFrom('anomalies').selectAll().executeTakeFirstOrThrow();
    expect(row.resolved_by).toBe('admin:小王');
  });

  it('serves the console page and chart.js outside the demo, and nothing else from those folders', async () => {
    const page = await h.api('GET', '/admin');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/admin/static/console.js');
    const chart = await h.api('GET', '/admin/static/chart.umd.min.js');
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-type')).toContain('javascript');
    // Read the 200 KB body: left unread, its connection stays busy and the service's close waits
    // for it (half a minute, until the client gives up).
    expect((await chart.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    for (const file of ['chart.js.map', '..%2fpackage.json', 'index.html', 'console-messages.json']) {
      expect((await h.api('GET', `/admin/static/${file}`)).status, file).toBe(404);
    }
  });

  it('signs out by clearing the cookie', async () => {
    const res = await h.api('DELETE', '/admin/session');
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/^weapp_pay_console=; .*Max-Age=0/);
  });
});
