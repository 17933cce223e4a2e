import { describe, expect, it } from 'vitest';
import { hasWechatCredentials, loadConfig, readTrustProxy } from './config.js';

const valid = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'appsecret-0123456789abcdef012345',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcdef',
  WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
};

describe('configuration', () => {
  it('accepts a complete environment and applies the documented defaults', () => {
    const result = loadConfig(valid);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.port).toBe(3000);
    expect(result.config.databaseUrl).toBe('sqlite:./data/weapp-pay.db');
    expect(result.config.wechat.payBaseUrl).toBe('https://api.mch.weixin.qq.com');
    expect(result.config.wechat.apiBaseUrl).toBe('https://api.weixin.qq.com');
    expect(result.config.wechat.signType).toBe('HMAC-SHA256');
    expect(Object.isFrozen(result.config.wechat)).toBe(true);
  });

  it('reads DATABASE_POOL_SIZE: 10 unless set, a whole number from 2 to 1000', () => {
    const pool = (value?: string) => {
      const result = loadConfig(value === undefined ? valid : { ...valid, DATABASE_POOL_SIZE: value });
      return result.ok ? result.config.databasePoolSize : result.problems;
    };
    expect(pool()).toBe(10);
    expect(pool('25')).toBe(25);
    expect(pool(' 4 ')).toBe(4);
    expect(pool('1')).toEqual(['DATABASE_POOL_SIZE must be a whole number from 2 to 1000 (it is "1")']);
    expect(pool('ten')).toEqual(['DATABASE_POOL_SIZE must be a whole number from 2 to 1000 (it is "ten")']);
  });

  it('lists every problem at once, with what to do about each', () => {
    const result = loadConfig({
      WECHAT_APPID: 'wx123',
      WECHAT_MCHID: 'abc',
      WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcde',
      WECHAT_NOTIFY_URL: 'https://shop.example.com/notify?x=1',
      PORT: '70000',
      WECHAT_MCH_KY: 'typo',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'WECHAT_MCH_KY is not a setting weapp-pay knows (did you mean WECHAT_MCH_KEY?)',
        'WECHAT_APPID must be "wx" followed by 16 letters or digits (it is 5 characters)',
        'WECHAT_SECRET is required',
        'WECHAT_MCHID must be 8 to 10 digits',
        'WECHAT_MCH_KEY must be 32 printable ASCII characters (it is 31)',
        'WECHAT_NOTIFY_URL must not have a query string (WeChat drops it)',
        'PORT must be a whole number from 0 to 65535 (it is "70000")',
      ]),
    );
    expect(result.problems).toHaveLength(7);
  });

  it('never echoes a secret value in a problem', () => {
    const result = loadConfig({ ...valid, WECHAT_MCH_KEY: 'short-secret-value' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.join('\n')).not.toContain('short-secret-value');
  });

  it('refuses API v3 without its credentials rather than running half-configured', () => {
    const result = loadConfig({ ...valid, WECHAT_API_VERSION: 'v3' });
    expect(result.ok).toBe(false);
  });

  it('detects demo mode by the absence of WeChat credentials', () => {
    expect(hasWechatCredentials({})).toBe(false);
    expect(hasWechatCredentials({ WECHAT_APPID: 'wx1234567890abcdef' })).toBe(true);
  });
});

describe('TRUST_PROXY', () => {
  const read = (raw: string) => {
    const problems: string[] = [];
    return { value: readTrustProxy(raw, problems), problems };
  };

  it('never trusts every hop: true is the one proxy in front of the service', () => {
    expect(read('false').value).toBe(false);
    expect(read('true').value).toBe(1);
    expect(read('2').value).toBe(2);
    expect(read('10.0.0.5, 10.0.1.0/24,::1').value).toEqual(['10.0.0.5', '10.0.1.0/24', '::1']);
  });

  it('refuses anything else, saying what it takes', () => {
    const { value, problems } = read('yes');
    expect(value).toBe(false);
    expect(problems[0]).toMatch(/^TRUST_PROXY must be false, true \(one proxy\), a number of proxies/);
    expect(read('10.0.0.5, proxy.internal').problems).toHaveLength(1);
  });
});

describe('RECONCILE_DAILY', () => {
  const daily = (value: string | undefined) => loadConfig({ ...valid, RECONCILE_DAILY: value });

  it('is 10:00 Beijing time unless set; off turns the daily run off', () => {
    expect(daily(undefined)).toMatchObject({ ok: true, config: { reconcileDaily: { hour: 10, minute: 0 } } });
    expect(daily('07:45')).toMatchObject({ ok: true, config: { reconcileDaily: { hour: 7, minute: 45 } } });
    expect(daily('off')).toMatchObject({ ok: true, config: { reconcileDaily: null } });
  });

  it.each(['10', '24:00', '9:30', '10:60', 'never'])('refuses %j, saying what it takes', (value) => {
    expect(daily(value)).toEqual({
      ok: false,
      problems: [
        `RECONCILE_DAILY must be off or a Beijing time HH:MM such as 10:00 (it is ${JSON.stringify(value)})`,
      ],
    });
  });
});

describe('LOG_SYNC', () => {
  const logSync = (value: string | undefined) => loadConfig({ ...valid, LOG_SYNC: value });

  it('is false unless set: lines are written asynchronously', () => {
    expect(logSync(undefined)).toMatchObject({ ok: true, config: { logSync: false } });
    expect(logSync('false')).toMatchObject({ ok: true, config: { logSync: false } });
    expect(logSync('true')).toMatchObject({ ok: true, config: { logSync: true } });
  });

  it.each(['yes', '1', 'TRUE'])('refuses %j, saying what it takes', (value) => {
    expect(logSync(value)).toEqual({
      ok: false,
      problems: [`LOG_SYNC must be true or false (it is ${JSON.stringify(value)})`],
    });
  });
});
