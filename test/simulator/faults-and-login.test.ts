import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WechatLoginError,
  WechatRetryableError,
  WechatUnknownOutcomeError,
} from '../../src/wechat/errors.js';
import { APPID, MCH_ID, OTHER_APPID, orderInput, type SimHarness, startSim } from './harness.js';

/** code2Session through the protocol layer's login client, and every request fault. */

const NOTIFY = 'http://127.0.0.1:9/payment/notify/v2';
let h: SimHarness;
let openid: string;

beforeAll(async () => {
  h = await startSim();
  openid = (await h.login()).openid;
});
afterAll(() => h.close());

const rejected = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('call should fail'),
    (e) => e,
  );
const orders = async (outTradeNo: string) =>
  (await h.json('GET', `/sim/orders?out_trade_no=${outTradeNo}`)).body.orders;

describe('code2Session', () => {
  it('exchanges a code from /sim/login for its openid, once', async () => {
    const login = h.loginClient();
    const { code, openid: issued } = await h.login();
    const session = await login.code2Session(code);
    expect(session.openid).toBe(issued);
    expect(session.sessionKey()).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const again = await rejected(login.code2Session(code));
    expect(again).toBeInstanceOf(WechatLoginError);
    expect([again.code, again.errcode]).toEqual(['INVALID_CODE', 40163]);
  });

  it('refuses an unknown code, a code older than 5 minutes, and a code of another appid with 40029', async () => {
    const login = h.loginClient();
    expect((await rejected(login.code2Session('no-such-code'))).errcode).toBe(40029);
    const old = await h.login();
    await h.clock.advance(300_000);
    expect((await rejected(login.code2Session(old.code))).errcode).toBe(40029);
    const foreign = await h.login(OTHER_APPID);
    expect((await rejected(login.code2Session(foreign.code))).errcode).toBe(40029);
  });

  it('refuses a wrong secret without naming it', async () => {
    const err = await rejected(
      h.loginClient({ secret: 'wrong-secret' }).code2Session((await h.login()).code),
    );
    expect([err.code, err.errcode]).toEqual(['CONFIG', 40125]);
    expect(JSON.stringify(err.message)).not.toContain('wrong-secret');
  });

  it.each([
    ['LOGIN_SYSTEM_ERROR', -1, 'UPSTREAM_RETRYABLE'],
    ['LOGIN_RATE_LIMIT', 45011, 'RATE_LIMITED'],
  ])('plays %s as errcode %i', async (fault, errcode, code) => {
    await h.json('POST', '/sim/faults', { fault, api: 'jscode2session' });
    const err = await rejected(h.loginClient().code2Session((await h.login()).code));
    expect([err.code, err.errcode]).toEqual([code, errcode]);
  });

  it('rate-limits more than the configured calls per user and minute with 45011', async () => {
    const tight = await startSim({ behaviour: { loginRateLimitPerMinute: 2, codeSingleUse: false } });
    try {
      const { code } = await tight.login();
      const c = tight.loginClient();
      await c.code2Session(code);
      await c.code2Session(code);
      expect((await rejected(c.code2Session(code))).errcode).toBe(45011);
      await tight.clock.advance(60_000);
      await c.code2Session(code);
    } finally {
      await tight.close();
    }
  });
});

describe('request faults', () => {
  it('SYSTEMERROR is a signed retryable answer and creates nothing', async () => {
    await h.json('POST', '/sim/faults', { fault: 'SYSTEMERROR', api: 'unifiedorder', mch_id: MCH_ID });
    const err = await rejected(h.client().unifiedOrder(orderInput('FAULT_SYSERR1', openid, NOTIFY)));
    expect(err).toBeInstanceOf(WechatRetryableError);
    expect(err.failure.errCode).toBe('SYSTEMERROR');
    expect(await orders('FAULT_SYSERR1')).toEqual([]);
    await h.client().unifiedOrder(orderInput('FAULT_SYSERR1', openid, NOTIFY));
    expect(await orders('FAULT_SYSERR1')).toHaveLength(1);
  });

  it.each([
    ['HTTP_500', 500],
    ['HTML_502', 502],
  ])('%s is an unknown outcome with that HTTP status, and the call is not applied', async (fault, status) => {
    await h.json('POST', '/sim/faults', { fault, out_trade_no: `FAULT_${fault}` });
    const err = await rejected(h.client().unifiedOrder(orderInput(`FAULT_${fault}`, openid, NOTIFY)));
    expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
    expect([err.reason, err.httpStatus]).toEqual(['http_status', status]);
    expect(await orders(`FAULT_${fault}`)).toEqual([]);
  });

  it('HANG never answers, so the client times out; the fault is used once', async () => {
    await h.json('POST', '/sim/faults', { fault: 'HANG', api: 'orderquery' });
    await h.client().unifiedOrder(orderInput('FAULT_HANG_01', openid, NOTIFY));
    const err = await rejected(h.client({ timeoutMs: 300 }).orderQuery({ outTradeNo: 'FAULT_HANG_01' }));
    expect(err.reason).toBe('timeout');
    expect((await h.client().orderQuery({ outTradeNo: 'FAULT_HANG_01' })).tradeState).toBe('NOTPAY');
  });

  it('RESET_AFTER_APPLY creates the order, cuts the line, and the identical retry succeeds on it', async () => {
    const c = h.client();
    await h.json('POST', '/sim/faults', { fault: 'RESET_AFTER_APPLY', out_trade_no: 'FAULT_RESET_2' });
    const reset = await rejected(c.unifiedOrder(orderInput('FAULT_RESET_2', openid, NOTIFY)));
    expect(reset).toBeInstanceOf(WechatUnknownOutcomeError);
    expect(reset.reason).toBe('network');
    expect(await orders('FAULT_RESET_2')).toHaveLength(1);
    const retry = await c.unifiedOrder(orderInput('FAULT_RESET_2', openid, NOTIFY));
    expect(retry.prepayId).toMatch(/^wx/);
    expect(await orders('FAULT_RESET_2')).toHaveLength(1);
  });

  it('BAD_SIGNATURE signs the answer with the wrong key, and the client does not trust it', async () => {
    await h.json('POST', '/sim/faults', { fault: 'BAD_SIGNATURE', api: 'unifiedorder' });
    const err = await rejected(h.client().unifiedOrder(orderInput('FAULT_BADSIG1', openid, NOTIFY)));
    expect(err.reason).toBe('bad_signature');
  });

  it('takes a fault from the X-Sim-Fault header for that request only', async () => {
    const res = await h.json('GET', `/sns/jscode2session?appid=${APPID}`, undefined, {
      'x-sim-fault': 'LOGIN_RATE_LIMIT',
    });
    expect(res.body.errcode).toBe(45011);
    const unknown = await h.json('GET', `/sns/jscode2session?appid=${APPID}`, undefined, {
      'x-sim-fault': 'NOPE',
    });
    expect(unknown.status).toBe(400);
    const misplaced = await h.json(
      'POST',
      '/sim/pay',
      { prepay_id: 'x', result: 'SUCCESS' },
      { 'x-sim-fault': 'HANG' },
    );
    expect(misplaced.status).toBe(400);
  });

  it('lists, counts down and deletes persistent faults', async () => {
    await h.json('DELETE', '/sim/faults');
    const a = await h.json('POST', '/sim/faults', { fault: 'SYSTEMERROR', api: 'orderquery', times: 2 });
    await h.json('POST', '/sim/faults', { fault: 'NOTIFY_DROP', mch_id: MCH_ID });
    expect(a.body).toMatchObject({ fault: 'SYSTEMERROR', api: 'orderquery', times: 2 });
    expect((await h.json('POST', '/sim/faults', { fault: 'NOT_A_FAULT' })).status).toBe(400);
    await h.client().unifiedOrder(orderInput('FAULT_TIMES_1', openid, NOTIFY));
    for (let i = 0; i < 2; i++) {
      await expect(h.client().orderQuery({ outTradeNo: 'FAULT_TIMES_1' })).rejects.toBeInstanceOf(
        WechatRetryableError,
      );
    }
    expect((await h.client().orderQuery({ outTradeNo: 'FAULT_TIMES_1' })).tradeState).toBe('NOTPAY');
    const listed = (await h.json('GET', '/sim/faults')).body.faults;
    expect(listed.map((f: { fault: string; times: number | null }) => [f.fault, f.times])).toEqual([
      ['NOTIFY_DROP', null],
    ]);
    expect((await h.json('DELETE', '/sim/faults')).body).toEqual({ removed: 1 });
  });
});

describe('control API', () => {
  it('answers CORS preflights on /sim/*', async () => {
    const res = await fetch(`${h.url}/sim/pay`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('reports and advances the clock', async () => {
    const before = (await h.json('GET', '/sim/clock')).body;
    const after = (await h.json('POST', '/sim/clock/advance', { seconds: 90 })).body;
    expect(after.now_ms - before.now_ms).toBe(90_000);
    expect(after.offset_ms - before.offset_ms).toBe(90_000);
    expect(after).toMatchObject({ time_scale: 1, now: new Date(after.now_ms).toISOString() });
    expect((await h.json('POST', '/sim/clock/advance', { seconds: -1 })).status).toBe(400);
  });

  it('dates every answer with the simulated clock, as WeChat dates its own (the Date header)', async () => {
    const before = (await h.json('GET', '/sim/clock')).body;
    const res = await fetch(`${h.url}/sim/clock`);
    expect(res.headers.get('date')).toBe(new Date(before.now_ms).toUTCString());
    const after = (await h.json('POST', '/sim/clock/advance', { seconds: 3600 })).body;
    const login = await fetch(
      `${h.url}/sns/jscode2session?appid=x&secret=y&js_code=z&grant_type=authorization_code`,
    );
    expect(login.headers.get('date')).toBe(new Date(after.now_ms).toUTCString());
    await h.json('POST', '/sim/clock/reset');
  });

  it('puts the clock back to its start with POST /sim/clock/reset', async () => {
    const ahead = (await h.json('POST', '/sim/clock/advance', { seconds: 60 })).body;
    expect(ahead.offset_ms).toBeGreaterThanOrEqual(60_000);
    const reset = (await h.json('POST', '/sim/clock/reset')).body;
    expect(reset).toMatchObject({ offset_ms: 0, now_ms: ahead.now_ms - ahead.offset_ms });
    expect((await h.json('GET', '/sim/clock')).body.offset_ms).toBe(0);
  });

  it('forgets everything on reset', async () => {
    await h.client().unifiedOrder(orderInput('RESET_ME_0001', openid, NOTIFY));
    expect((await h.json('POST', '/sim/reset')).body).toEqual({ ok: true });
    expect((await h.json('GET', '/sim/orders')).body.orders).toEqual([]);
    openid = (await h.login()).openid;
  });
});
