/**
 * `weapp-pay doctor` against the simulator, with each common configuration mistake made on
 * purpose: the line that names it, its fix, the exit code, and no secret in the output.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { issuePlatformCertificate } from '../../src/simulator/v3/platform-certificate.js';
import { APPID, KEY, MCH_ID, MERCHANTS, SECRET } from '../simulator/harness.js';
import { REPO, runCli, runMain, tempDir } from './cli-harness.js';

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix?: string;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

let sim: Simulator;
let simUrl: string;
beforeAll(async () => {
  // The simulator's own clock runs with real time, as WeChat's does; /sim/clock/advance moves it.
  sim = createSimulator({ merchants: MERCHANTS });
  simUrl = (await sim.listen({ port: 0 })).url;
});
afterAll(() => sim.close());

const DAY = 86_400_000;

async function setup(overrides: Record<string, string> = {}, { migrate = true } = {}) {
  const dir = tempDir(cleanups);
  const env: Record<string, string> = {
    WECHAT_APPID: APPID,
    WECHAT_SECRET: SECRET,
    WECHAT_MCHID: MCH_ID,
    WECHAT_MCH_KEY: KEY,
    WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
    WECHAT_PAY_BASE_URL: simUrl,
    WECHAT_API_BASE_URL: simUrl,
    DATABASE_URL: `sqlite:${join(dir, 'weapp-pay.db')}`,
    CATALOGUE_FILE: join(REPO, 'catalogue.example.json'),
    ...overrides,
  };
  if (migrate) expect((await runMain(['migrate'], { cwd: dir, env })).code).toBe(0);
  return { dir, env };
}

async function doctor(args: string[], env: Record<string, string>, dir: string) {
  const run = await runMain(['doctor', '--json', ...args], { cwd: dir, env });
  const report = JSON.parse(run.stdout) as { ok: boolean; checks: Check[] };
  const byId = (id: string) => report.checks.find((c) => c.id === id);
  return { ...run, report, byId };
}

/** A merchant certificate for `keyPem`, made by `openssl` in a temporary folder. */
async function certificateFile(dir: string, name: string, keyPem: string, notBeforeMs: number, days: number) {
  const pem = await issuePlatformCertificate({ privateKeyPem: keyPem, notBeforeMs, days });
  writeFileSync(join(dir, `${name}_cert.pem`), pem);
  return join(dir, `${name}_cert.pem`);
}

function rsaKeyFile(dir: string, name: string): { path: string; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(dir, `${name}_key.pem`), pem, { mode: 0o600 });
  return { path: join(dir, `${name}_key.pem`), pem };
}

describe('weapp-pay doctor', { timeout: 90_000 }, () => {
  it('passes an all-good configuration online, exit 0, and prints none of the secrets', async () => {
    const { dir, env } = await setup();
    const key = rsaKeyFile(dir, 'apiclient');
    env.WECHAT_MCH_CERT = await certificateFile(dir, 'apiclient', key.pem, Date.now() - DAY, 365);
    env.WECHAT_MCH_CERT_KEY = key.path;
    const run = await doctor(['--online'], env, dir);
    expect(run.code).toBe(0);
    expect(run.report.ok).toBe(true);
    expect(run.report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    for (const id of [
      'settings',
      'settings.merchant-key',
      'certificate.key-match',
      'certificate.expiry',
      'settings.notify-url',
      'database.reachable',
      'database.migrations',
      'database.durability',
      'online.v2-key',
      'online.appsecret',
      'online.clock',
    ]) {
      expect(run.byId(id)?.status, id).toBe('ok');
    }
    expect(run.byId('online.v2-key')?.message).toContain('ORDERNOTEXIST');
    expect(run.byId('online.appsecret')?.message).toContain('40029');
    // A database in the temporary folder is named as such, but only as a warning.
    expect(run.byId('database.location')?.status).toBe('warn');

    const text = await runMain(['doctor', '--online'], { cwd: dir, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^✓ every setting is well-formed/m);
    expect(text.stdout).not.toContain('\x1b[');
    const body = key.pem.split('\n')[1]!;
    for (const output of [run.stdout, run.stderr, text.stdout, text.stderr]) {
      for (const secret of [KEY, SECRET, body]) expect(output).not.toContain(secret);
    }
  });

  it("names a wrong merchant key from WeChat's signature error", async () => {
    const { dir, env } = await setup({ WECHAT_MCH_KEY: 'WrongMerchantKey0123456789abcdef' });
    const offline = await doctor([], env, dir);
    expect(offline.code).toBe(0);
    expect(offline.byId('online')?.status).toBe('skip');

    const run = await doctor(['--online'], env, dir);
    expect(run.code).toBe(1);
    const check = run.byId('online.v2-key')!;
    expect(check.status).toBe('fail');
    expect(check.message).toContain('签名错误');
    expect(check.fix).toContain('WECHAT_MCH_KEY');
    expect(run.stdout).not.toContain('WrongMerchantKey0123456789abcdef');
  });

  it('names a wrong AppSecret (40125) and a wrong appid (40013)', async () => {
    const secret = await setup({ WECHAT_SECRET: 'not-the-app-secret' });
    const wrongSecret = await doctor(['--online'], secret.env, secret.dir);
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.byId('online.appsecret')).toMatchObject({ status: 'fail' });
    expect(wrongSecret.byId('online.appsecret')?.message).toContain('40125');
    expect(wrongSecret.byId('online.appsecret')?.fix).toContain('WECHAT_SECRET');
    expect(wrongSecret.byId('online.v2-key')?.status).toBe('ok');
    expect(wrongSecret.stdout).not.toContain('not-the-app-secret');

    const appid = await setup({ WECHAT_APPID: 'wx00000000000000ff' });
    const wrongAppid = await doctor(['--online'], appid.env, appid.dir);
    expect(wrongAppid.code).toBe(1);
    expect(wrongAppid.byId('online.appsecret')?.message).toContain('40013');
    expect(wrongAppid.byId('online.appsecret')?.fix).toContain('WECHAT_APPID');
  });

  it('names the base URL WeChat cannot be reached at, without the AppSecret it carries', async () => {
    const { dir, env } = await setup({ WECHAT_API_BASE_URL: 'http://127.0.0.1:1' });
    const run = await doctor(['--online'], env, dir);
    expect(run.code).toBe(1);
    expect(run.byId('online.appsecret')?.message).toContain('cannot get an answer from http://127.0.0.1:1');
    expect(run.byId('online.appsecret')?.fix).toContain('WECHAT_API_BASE_URL');
    expect(run.stdout).not.toContain(SECRET);
  });

  it('names a certificate that does not match its key, one expired and one expiring soon', async () => {
    const { dir, env } = await setup();
    const mine = rsaKeyFile(dir, 'mine');
    const other = rsaKeyFile(dir, 'other');
    env.WECHAT_MCH_CERT = await certificateFile(dir, 'other', other.pem, Date.now() - DAY, 365);
    env.WECHAT_MCH_CERT_KEY = mine.path;
    const mismatch = await doctor([], env, dir);
    expect(mismatch.code).toBe(1);
    expect(mismatch.byId('certificate.key-match')?.status).toBe('fail');
    expect(mismatch.byId('certificate.key-match')?.fix).toContain('WECHAT_MCH_CERT_KEY');

    env.WECHAT_MCH_CERT = await certificateFile(dir, 'expired', mine.pem, Date.now() - 400 * DAY, 365);
    const expired = await doctor([], env, dir);
    expect(expired.code).toBe(1);
    expect(expired.byId('certificate.key-match')?.status).toBe('ok');
    expect(expired.byId('certificate.expiry')).toMatchObject({ status: 'fail' });
    expect(expired.byId('certificate.expiry')?.message).toMatch(/expired on \d{4}-\d{2}-\d{2}/);

    env.WECHAT_MCH_CERT = await certificateFile(dir, 'soon', mine.pem, Date.now() - 355 * DAY, 365);
    const soon = await doctor([], env, dir);
    expect(soon.code).toBe(0);
    expect(soon.byId('certificate.expiry')?.status).toBe('warn');
    expect(soon.byId('certificate.expiry')?.message).toMatch(/expires in (9|10) day/);
    expect(soon.stdout).not.toContain(mine.pem.split('\n')[1]!);
  });

  it('refuses a plain-http notify URL, warns on one for localhost, and names a query string', async () => {
    const http = await setup({ WECHAT_NOTIFY_URL: 'http://shop.example.com/payment/wxnotify' });
    const plain = await doctor([], http.env, http.dir);
    expect(plain.code).toBe(1);
    expect(plain.byId('settings.notify-url')).toMatchObject({ status: 'fail' });
    expect(plain.byId('settings.notify-url')?.fix).toContain('https://');

    const local = await setup({ WECHAT_NOTIFY_URL: 'http://127.0.0.1:3000/payment/wxnotify' });
    const loopback = await doctor([], local.env, local.dir);
    expect(loopback.code).toBe(0);
    expect(loopback.byId('settings.notify-url')?.status).toBe('warn');

    const query = await setup({ WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify?shop=1' });
    const withQuery = await doctor([], query.env, query.dir);
    expect(withQuery.code).toBe(1);
    const line = withQuery.byId('settings.WECHAT_NOTIFY_URL')!;
    expect(line.status).toBe('fail');
    expect(line.message).toContain('query string');
    expect(line.fix).toContain('WECHAT_NOTIFY_URL=https://');
    expect(withQuery.byId('online')?.status).toBe('skip');
  });

  it('fails a database that is not migrated, without migrating or creating it', async () => {
    const { dir, env } = await setup({}, { migrate: false });
    const missing = await doctor([], env, dir);
    expect(missing.code).toBe(1);
    expect(missing.byId('database.reachable')?.fix).toContain('weapp-pay migrate');
    expect(existsSync(join(dir, 'weapp-pay.db'))).toBe(false);

    // An empty file: reachable, but no migration applied, and doctor applies none.
    writeFileSync(join(dir, 'weapp-pay.db'), '');
    const empty = await doctor([], env, dir);
    expect(empty.code).toBe(1);
    expect(empty.byId('database.reachable')?.status).toBe('ok');
    expect(empty.byId('database.migrations')).toMatchObject({ status: 'fail' });
    expect(empty.byId('database.migrations')?.message).toMatch(/^\d+ of \d+ migrations not applied \(0001_/);
    expect((await doctor([], env, dir)).byId('database.migrations')?.status).toBe('fail');
  });

  it("measures the clock against the simulator's Date header, which follows /sim/clock/advance", async () => {
    const { dir, env } = await setup();
    await fetch(`${simUrl}/sim/clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 600 }),
    });
    try {
      const run = await doctor(['--online'], env, dir);
      const clock = run.byId('online.clock')!;
      // v2 has no signature window: a skew is a warning, named with its size and direction.
      expect(clock.status).toBe('warn');
      expect(clock.message).toMatch(/clock is (59\d|60\d) s behind WeChat's/);
      expect(clock.fix).toContain('NTP');
      expect(run.code).toBe(0);
    } finally {
      await fetch(`${simUrl}/sim/clock/reset`, { method: 'POST' });
    }
  });

  it('runs as a child process: --help lists its flags, a bad setup exits 1 with plain marks', async () => {
    const { dir, env } = await setup({ WECHAT_SECRET: '' }, { migrate: false });
    const help = await runCli(['doctor', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    for (const flag of ['--online', '--json', '--env-file <path>']) expect(help.stdout).toContain(flag);
    const run = await runCli(['doctor'], { cwd: dir, env: { ...env, NO_COLOR: '1' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '✗ WECHAT_SECRET is required\n    fix: WECHAT_SECRET: Mini Program AppSecret',
    );
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('lists every malformed setting on its own red line with an example of a good value', async () => {
    const { dir, env } = await setup({ WECHAT_MCH_KEY: 'short', WECHAT_MCHID: 'abc' });
    const run = await doctor([], env, dir);
    expect(run.code).toBe(1);
    expect(run.byId('settings.WECHAT_MCH_KEY')).toMatchObject({
      status: 'fail',
      message: 'WECHAT_MCH_KEY must be 32 printable ASCII characters (it is 5)',
    });
    expect(run.byId('settings.WECHAT_MCHID')?.fix).toBe(
      'WECHAT_MCHID: merchant id, 8 to 10 digits (credential), e.g. WECHAT_MCHID=1900000109',
    );
    expect(run.stdout).not.toContain('"short"');
  });
});
