import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRetryable, WechatLoginError } from '../errors.js';
import { createLoginClient, type LoginClient, LoginSession } from './code2session.js';

const appid = 'wx1234567890abcdef';
const secret = 'AppSecret-0123456789abcdef-TOPSECRET';
const sessionKey = 'tQY+38pdTVnAIWCBNiM1+A==';

let reply: (res: ServerResponse) => void;
const queries: URL[] = [];
let server: Server;
let login: LoginClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    queries.push(new URL(req.url ?? '/', 'http://x'));
    reply(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await login?.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  queries.length = 0;
  await login?.close();
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  login = createLoginClient({ baseUrl, appid, secret, timeoutMs: 5000 });
});

/** WeChat has answered JSON as text/plain; the client must not care. */
const json =
  (body: unknown, contentType = 'text/plain') =>
  (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

async function loginError(code = 'code-1'): Promise<WechatLoginError> {
  const err = await login.code2Session(code).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WechatLoginError);
  const e = err as WechatLoginError;
  expect(`${e.message} ${inspect(e)}`).not.toContain(secret);
  return e;
}

describe('code2Session', () => {
  it('sends the documented query and returns openid and unionid', async () => {
    reply = json({ openid: 'o--sB5rdWBfwTidbZzzn4FXfWpEg', session_key: sessionKey, unionid: 'oU_union' });
    const session = await login.code2Session('081abc');
    expect(queries[0]?.pathname).toBe('/sns/jscode2session');
    expect(Object.fromEntries(queries[0]?.searchParams ?? [])).toEqual({
      appid,
      secret,
      js_code: '081abc',
      grant_type: 'authorization_code',
    });
    expect([session.openid, session.unionid, session.sessionKey()]).toEqual([
      'o--sB5rdWBfwTidbZzzn4FXfWpEg',
      'oU_union',
      sessionKey,
    ]);
  });

  it('treats errcode 0 and a missing errcode alike as success, whatever the Content-Type', async () => {
    reply = json({ errcode: 0, errmsg: 'ok', openid: 'o1', session_key: sessionKey }, 'application/json');
    expect((await login.code2Session('c')).openid).toBe('o1');
    reply = json({ openid: 'o2', session_key: sessionKey }, 'text/html');
    expect((await login.code2Session('c')).unionid).toBeUndefined();
  });

  it.each([
    [-1, 'system error', 'UPSTREAM_RETRYABLE'],
    [40029, 'invalid code, rid: 6380622c', 'INVALID_CODE'],
    [40163, 'code been used, rid: 6380622c-50076416-224b40b0', 'INVALID_CODE'],
    [45011, 'api minute-quota reach limit mustslower retry next minute', 'RATE_LIMITED'],
    [40226, 'code blocked', 'USER_BLOCKED'],
    [40013, 'invalid appid', 'CONFIG'],
    [40125, 'invalid appsecret', 'CONFIG'],
    [41002, 'appid missing', 'CONFIG'],
    [41004, 'appsecret missing', 'CONFIG'],
    [41008, 'missing code', 'CONFIG'],
    [99999, 'something new', 'CONFIG'],
  ])('maps errcode %i to %s', async (errcode, errmsg, code) => {
    reply = json({ errcode, errmsg });
    const err = await loginError();
    expect([err.code, err.errcode]).toEqual([code, errcode]);
    expect(isRetryable(err)).toBe(code === 'UPSTREAM_RETRYABLE');
  });

  it('treats a timeout as retryable upstream trouble', async () => {
    reply = () => {};
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const impatient = createLoginClient({ baseUrl, appid, secret, timeoutMs: 200 });
    const err = await impatient.code2Session('code-1').then(
      () => undefined,
      (e: unknown) => e,
    );
    await impatient.close();
    expect(err).toBeInstanceOf(WechatLoginError);
    expect([(err as WechatLoginError).code, (err as WechatLoginError).message]).toEqual([
      'UPSTREAM_RETRYABLE',
      'code2Session failed (timeout)',
    ]);
  });

  it.each([
    ['a reset', (res: ServerResponse) => res.socket?.destroy()],
    ['an HTTP 502', (res: ServerResponse) => res.writeHead(502).end('<html>bad gateway</html>')],
    ['a body that is not JSON', json('<html>oops</html>')],
    ['JSON that is not an object', json('null')],
    ['a success without session_key', json({ openid: 'o1' })],
  ])('treats %s as retryable upstream trouble', async (_, handler) => {
    reply = handler;
    const err = await loginError();
    expect(err.code).toBe('UPSTREAM_RETRYABLE');
    expect(err.errcode).toBeUndefined();
  });

  it('never repeats the AppSecret, even when WeChat echoes it', async () => {
    reply = json({ errcode: 40125, errmsg: `invalid appsecret ${secret}` });
    expect((await loginError()).message).toContain('***');
  });

  it('refuses an empty or absurd code without calling WeChat', async () => {
    for (const bad of ['', 'x'.repeat(129), 'has space', 'new\nline']) {
      expect((await loginError(bad)).code).toBe('INVALID_CODE');
    }
    expect(queries).toHaveLength(0);
  });
});

describe('LoginSession keeps session_key to itself', () => {
  const session = new LoginSession('o--sB5rdWBfwTidbZzzn4FXfWpEg', sessionKey, 'oU_union');

  it('serialises to openid and unionid only', () => {
    expect(JSON.stringify(session)).toBe('{"openid":"o--sB5rdWBfwTidbZzzn4FXfWpEg","unionid":"oU_union"}');
    expect(JSON.stringify({ user: session })).not.toContain(sessionKey);
    expect(Object.keys(session)).toEqual(['openid', 'unionid']);
    expect(JSON.stringify({ ...session })).not.toContain(sessionKey);
  });

  it('hides it from util.inspect and console-style formatting', () => {
    for (const text of [
      inspect(session),
      inspect(session, { showHidden: true, depth: 10 }),
      inspect({ session }),
    ]) {
      expect(text).toContain('o--sB5rdWBfwTidbZzzn4FXfWpEg');
      expect(text).not.toContain(sessionKey);
    }
  });

  it('never reaches a pino log line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(sink);
    log.info({ session }, 'login');
    log.info(session, 'login as object');
    log.info({ nested: { session } }, 'nested');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toContain('o--sB5rdWBfwTidbZzzn4FXfWpEg');
      expect(line).not.toContain(sessionKey);
    }
  });

  it('still hands it to server code that asks', () => {
    expect(session.sessionKey()).toBe(sessionKey);
  });
});
