import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
  PLATFORM_CERTIFICATE_A_SERIAL,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
} from '../test/fixtures/v3-keys.js';
import { loadConfig } from './config.js';

const merchant = { cert: MERCHANT_CERTIFICATE, key: MERCHANT_PRIVATE_KEY, serial: MERCHANT_SERIAL };
// Another party's key and serial: what a mix-up of files looks like.
const other = { key: PLATFORM_PRIVATE_KEY, serial: PLATFORM_CERTIFICATE_A_SERIAL };
const pay = { publicKey: PLATFORM_PUBLIC_KEY, privateKey: PLATFORM_PRIVATE_KEY };
const PUBLIC_KEY_ID = PLATFORM_PUBLIC_KEY_ID;

describe('API v3 configuration', () => {
  let dir: string;
  let base: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weapp-pay-config-'));
    writeFileSync(join(dir, 'apiclient_cert.pem'), merchant.cert);
    writeFileSync(join(dir, 'apiclient_key.pem'), merchant.key);
    writeFileSync(join(dir, 'pub_key.pem'), pay.publicKey);
    base = {
      WECHAT_API_VERSION: 'v3',
      WECHAT_APPID: 'wx1234567890abcdef',
      WECHAT_SECRET: 'appsecret-0123456789abcdef012345',
      WECHAT_MCHID: '1900000109',
      WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify/v3',
      WECHAT_API_V3_KEY: API_V3_KEY,
      WECHAT_MCH_CERT: join(dir, 'apiclient_cert.pem'),
      WECHAT_MCH_CERT_KEY: join(dir, 'apiclient_key.pem'),
      WECHAT_PAY_PUBLIC_KEY: join(dir, 'pub_key.pem'),
      WECHAT_PAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
    };
  });

  function problemsOf(env: Record<string, string>): string[] {
    const result = loadConfig(env);
    return result.ok ? [] : result.problems;
  }

  it('accepts files from the merchant platform without the v2 key, reading the serial from the certificate', () => {
    const result = loadConfig(base);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const { wechat } = result.config;
    expect(wechat.apiVersion).toBe('v3');
    expect(wechat.mchKey).toBe('');
    expect(wechat.v3?.serialNo).toBe(merchant.serial);
    expect(wechat.v3?.merchantPrivateKey).toBe(merchant.key);
    expect(wechat.v3?.payPublicKey).toEqual({ id: PUBLIC_KEY_ID, pem: pay.publicKey });
  });

  it('accepts PEMs given inline, also on one line with \\n escapes as .env files hold them', () => {
    const oneLine = (pem: string) => pem.trim().replace(/\n/g, '\\n');
    const result = loadConfig({
      ...base,
      WECHAT_MCH_CERT: merchant.cert,
      WECHAT_MCH_CERT_KEY: oneLine(merchant.key),
      WECHAT_PAY_PUBLIC_KEY: oneLine(pay.publicKey),
    });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.wechat.v3?.serialNo).toBe(merchant.serial);
  });

  it('runs in platform-certificate mode when no WeChat Pay public key is given', () => {
    const { WECHAT_PAY_PUBLIC_KEY: _k, WECHAT_PAY_PUBLIC_KEY_ID: _i, ...env } = base;
    const result = loadConfig(env);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.wechat.v3?.payPublicKey).toBeUndefined();
  });

  it('takes WECHAT_MCH_CERT_SERIAL when only the key is given', () => {
    const { WECHAT_MCH_CERT: _c, ...env } = base;
    const result = loadConfig({ ...env, WECHAT_MCH_CERT_SERIAL: merchant.serial.toLowerCase() });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.wechat.v3?.serialNo).toBe(merchant.serial);
    expect(problemsOf(env)).toEqual([
      'WECHAT_MCH_CERT is required for API v3 (apiclient_cert.pem), or WECHAT_MCH_CERT_SERIAL when only the key is given',
    ]);
  });

  it('lists every v3 problem at once: key length, key/certificate pair, serial, key id prefix, unreadable file', () => {
    const problems = problemsOf({
      ...base,
      WECHAT_API_V3_KEY: 'too-short-apiv3-key',
      WECHAT_MCH_CERT_KEY: other.key,
      WECHAT_MCH_CERT_SERIAL: other.serial,
      WECHAT_PAY_PUBLIC_KEY_ID: '0119000001092024',
      WECHAT_PAY_PUBLIC_KEY: join(dir, 'missing.pem'),
    });
    expect(problems).toEqual([
      'WECHAT_API_V3_KEY must be 32 printable ASCII characters (it is 19)',
      'WECHAT_MCH_CERT_KEY does not match WECHAT_MCH_CERT: the key belongs to another certificate',
      `WECHAT_MCH_CERT_SERIAL (${other.serial}) does not match the serial of WECHAT_MCH_CERT (${merchant.serial})`,
      `WECHAT_PAY_PUBLIC_KEY must be a PEM or a readable file; cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
      'WECHAT_PAY_PUBLIC_KEY_ID must start with PUB_KEY_ID_ (it is 0119000001092024)',
    ]);
    const joined = problems.join('\n');
    expect(joined).not.toContain('too-short-apiv3-key');
    expect(joined).not.toContain('PRIVATE KEY');
  });

  it('names what is missing in v3 mode and what is not a key', () => {
    expect(
      problemsOf({
        ...base,
        WECHAT_API_V3_KEY: '',
        WECHAT_MCH_CERT: '',
        WECHAT_MCH_CERT_KEY: join(dir, 'apiclient_cert.pem'),
        WECHAT_PAY_PUBLIC_KEY: '',
      }),
    ).toEqual([
      'WECHAT_API_V3_KEY is required for API v3 (merchant platform → API 安全)',
      'WECHAT_MCH_CERT is required for API v3 (apiclient_cert.pem), or WECHAT_MCH_CERT_SERIAL when only the key is given',
      'WECHAT_MCH_CERT_KEY is not a readable PEM private key',
      'WECHAT_PAY_PUBLIC_KEY and WECHAT_PAY_PUBLIC_KEY_ID go together: set both (public-key mode) or neither (platform certificates)',
    ]);
  });

  it('does not reject the simulator-only WECHAT_PAY_PRIVATE_KEY, nor any unknown API version silently', () => {
    expect(problemsOf({ ...base, WECHAT_PAY_PRIVATE_KEY: pay.privateKey })).toEqual([]);
    expect(problemsOf({ ...base, WECHAT_API_VERSION: 'v4' })).toContain(
      'WECHAT_API_VERSION must be v2 or v3 (it is v4)',
    );
  });

  it('still requires the v2 key in v2 mode', () => {
    expect(problemsOf({ ...base, WECHAT_API_VERSION: 'v2' })).toEqual(['WECHAT_MCH_KEY is required']);
  });
});
