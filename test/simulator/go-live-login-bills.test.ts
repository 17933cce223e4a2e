import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMerchantsFromFile } from '../../src/simulator/index.js';
import {
  APPID,
  KEY,
  MCH_ID,
  OTHER_APPID,
  orderInput,
  SECRET,
  type SimHarness,
  startSim,
  startTlsSim,
} from './harness.js';

/** code2Session's unionid, 40226 and per-minute quota; the bills' summaries against their rows. */

const NOTIFY = 'http://127.0.0.1:9/payment/notify/v2';
const BOUND_APPID = 'wx00000000000000c3';
let h: SimHarness;

beforeEach(async () => {
  h = await startSim({
    merchants: [
      {
        mchId: MCH_ID,
        key: KEY,
        appids: [
          { appid: APPID, secret: SECRET },
          { appid: BOUND_APPID, secret: 'bound-secret', openPlatform: 'open-account-1' },
        ],
      },
      { mchId: '1900000200', key: KEY, appids: [{ appid: OTHER_APPID, secret: 'other-secret' }] },
    ],
  });
});
afterEach(() => h.close());

const rejected = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('call should fail'),
    (e) => e,
  );

describe('code2Session unionid', () => {
  const bound = () => h.loginClient({ appid: BOUND_APPID, secret: 'bound-secret' });

  it('answers the unionid given to /sim/login for an app bound to an Open Platform account', async () => {
    const { code } = (await h.json('POST', '/sim/login', { appid: BOUND_APPID, unionid: 'oU_shop_user_1' }))
      .body;
    expect((await bound().code2Session(code)).unionid).toBe('oU_shop_user_1');
  });

  it('invents one stable unionid per user of a bound app when none is given', async () => {
    const first = (await h.json('POST', '/sim/login', { appid: BOUND_APPID })).body;
    const again = (await h.json('POST', '/sim/login', { appid: BOUND_APPID, openid: first.openid })).body;
    const a = await bound().code2Session(first.code);
    const b = await bound().code2Session(again.code);
    expect(a.unionid).toMatch(/^o[0-9A-Za-z_-]{27}$/);
    expect(b.unionid).toBe(a.unionid);
  });

  it('answers no unionid for an app without Open Platform, and refuses to issue one for it', async () => {
    expect((await h.loginClient().code2Session((await h.login()).code)).unionid).toBeUndefined();
    const res = await h.json('POST', '/sim/login', { appid: APPID, unionid: 'oU_shop_user_2' });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('Open Platform');
  });

  it('reads openPlatform from a merchants file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-merchants-'));
    const file = join(dir, 'merchants.json');
    const app = { appid: BOUND_APPID, secret: 's', openPlatform: 'open-account-1' };
    writeFileSync(file, JSON.stringify([{ mchId: MCH_ID, key: KEY, appids: [app] }]));
    expect(loadMerchantsFromFile(file)[0]!.appids).toEqual([app]);
  });
});

describe('code2Session 40226 (high-risk user)', () => {
  it('refuses the code of a login made with high_risk: true', async () => {
    const { code } = (await h.json('POST', '/sim/login', { appid: APPID, high_risk: true })).body;
    const err = await rejected(h.loginClient().code2Session(code));
    expect([err.code, err.errcode]).toEqual(['USER_BLOCKED', 40226]);
  });

  it('plays the LOGIN_HIGH_RISK fault, once', async () => {
    await h.json('POST', '/sim/faults', { fault: 'LOGIN_HIGH_RISK', api: 'jscode2session' });
    expect((await rejected(h.loginClient().code2Session((await h.login()).code))).errcode).toBe(40226);
    await h.loginClient().code2Session((await h.login()).code);
  });
});

describe('code2Session per-minute quota', () => {
  it('does not count a refused call against the next minute', async () => {
    const tight = await startSim({ behaviour: { loginRateLimitPerMinute: 3 } });
    try {
      const { openid } = await tight.login();
      const call = async () =>
        tight.loginClient().code2Session((await tight.json('POST', '/sim/login', { openid })).body.code);
      for (let i = 0; i < 3; i++) await call();
      await tight.clock.advance(30_000);
      expect((await rejected(call())).errcode).toBe(45011);
      await tight.clock.advance(30_001);
      // The three accepted calls are a minute old; the refused one must not take a slot.
      for (let i = 0; i < 3; i++) await call();
      expect((await rejected(call())).errcode).toBe(45011);
    } finally {
      await tight.close();
    }
  });
});

describe('bill summaries agree with their rows', () => {
  const SUMMARY_OF: Record<string, string> = {
    应结订单总金额: '应结订单金额',
    退款总金额: '退款金额',
    充值券退款总金额: '充值券退款金额',
    手续费总金额: '手续费',
    订单总金额: '订单金额',
    申请退款总金额: '申请退款金额',
  };
  const cells = (line: string) => line.split(',').map((c) => c.replace(/^`/, ''));
  /** Fen, from `12.34` or the fee's `0.07000`. */
  const fen = (yuan: string) => Math.round(Number(yuan) * 100);

  it.each(['ALL', 'SUCCESS', 'REFUND'] as const)('in the %s bill', async (billType) => {
    const bill = await startTlsSim();
    try {
      expect(await billLines(bill, billType)).toBeDefined();
    } finally {
      await bill.close();
    }
  });

  async function billLines(
    b: Awaited<ReturnType<typeof startTlsSim>>,
    billType: 'ALL' | 'SUCCESS' | 'REFUND',
  ) {
    const o = (await b.login()).openid;
    const c = b.tlsClient();
    for (const [no, fee] of [
      ['BILL_SUM_0001', 1234],
      ['BILL_SUM_0002', 500],
    ] as const) {
      const { prepayId } = await c.unifiedOrder(orderInput(no, o, NOTIFY, fee));
      await b.pay(prepayId);
    }
    await c.refund({ outTradeNo: 'BILL_SUM_0001', outRefundNo: 'R_SUM_1', totalFee: 1234, refundFee: 234 });
    await b.clock.advance(24 * 3600_000);
    const lines = (await c.downloadBill({ billDate: '20240101', billType })).split('\r\n');
    const header = cells(lines[0]!);
    const rows = lines.slice(1, -3).map(cells);
    const [summaryHeader, summary] = [cells(lines.at(-3)!), cells(lines.at(-2)!)];
    expect(rows).toHaveLength({ ALL: 3, SUCCESS: 2, REFUND: 1 }[billType]);
    expect(summary[summaryHeader.indexOf('总交易单数')]).toBe(String(rows.length));
    for (const [name, value] of summaryHeader.map((n, i) => [n, summary[i]!] as const)) {
      if (name === '总交易单数') continue;
      const column = header.indexOf(SUMMARY_OF[name]!);
      expect(column, name).toBeGreaterThanOrEqual(0);
      const sum = rows.reduce((s, r) => s + fen(r[column]!), 0);
      expect([name, fen(value)]).toEqual([name, sum]);
    }
    return lines;
  }
});
