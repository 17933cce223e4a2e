/**
 * The doctor's API v3 checks against the simulator in v3 mode. `loadConfig` reads the v3
 * settings on the v3-service branch; until then these checks are driven with the settings'
 * shape directly, through the same functions `weapp-pay doctor` calls.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { checkMerchantCertificate } from '../../src/cli/doctor/certificate.js';
import { checkClockSkew } from '../../src/cli/doctor/online-v2.js';
import { checkV3Signature, type V3Setup } from '../../src/cli/doctor/online-v3.js';
import { renderJson, renderText, wantsColour } from '../../src/cli/doctor/render.js';
import { checkPayPublicKey } from '../../src/cli/doctor/v3-offline.js';
import type { PublishedKeys } from '../../src/simulator/index.js';
import { createTransport } from '../../src/wechat/transport.js';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_PUBLIC_KEY,
  MERCHANT_SERIAL,
} from '../fixtures/v3-keys.js';
import { MCH_ID } from '../simulator/harness.js';
import { startV3Sim } from '../simulator/v3-harness.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function v3Sim(mode: 'public-key' | 'certificate') {
  const h = await startV3Sim({ v3: { v3KeyMode: mode } });
  const transport = createTransport({ timeoutMs: 5000 });
  stops.push(async () => {
    await transport.close();
    await h.close();
  });
  const keys = (await (await fetch(`${h.url}/sim/v3/keys`)).json()) as PublishedKeys;
  const good: V3Setup = {
    apiV3Key: API_V3_KEY,
    merchantPrivateKey: MERCHANT_PRIVATE_KEY,
    merchantCertificate: MERCHANT_CERTIFICATE,
    serialNo: MERCHANT_SERIAL,
    payPublicKey: mode === 'public-key' ? { id: keys.publicKeyId, pem: keys.publicKeyPem } : undefined,
  };
  const check = (v3: V3Setup) => checkV3Signature(transport, h.url, MCH_ID, v3, h.clock.now());
  return { h, good, keys, check };
}

describe('doctor, API v3 online (GET /v3/certificates)', { timeout: 60_000 }, () => {
  it('passes the right credentials in public-key mode and names a wrong WeChat Pay public key', async () => {
    const { good, check } = await v3Sim('public-key');
    expect(await check(good)).toMatchObject({ id: 'online.v3-signature', status: 'ok' });

    const wrongKey = await check({
      ...good,
      payPublicKey: { id: good.payPublicKey!.id, pem: MERCHANT_PUBLIC_KEY },
    });
    expect(wrongKey.status).toBe('fail');
    expect(wrongKey.message).toContain('BAD_SIGNATURE');
    expect(wrongKey.fix).toContain('WECHAT_PAY_PUBLIC_KEY');
  });

  it("names a merchant private key that is not the certificate's (WeChat answers 401)", async () => {
    const { good, check } = await v3Sim('public-key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const result = await check({ ...good, merchantPrivateKey: other });
    expect(result.status).toBe('fail');
    expect(result.message).toContain('HTTP 401 SIGN_ERROR');
    expect(result.fix).toContain('WECHAT_MCH_CERT_KEY');
    expect(JSON.stringify(result)).not.toContain(other.split('\n')[1]!);
  });

  it('verifies with the platform certificates in certificate mode and names a wrong APIv3 key', async () => {
    const { good, check } = await v3Sim('certificate');
    expect((await check(good)).status).toBe('ok');
    const wrong = await check({ ...good, apiV3Key: 'WrongApiV3Key0123456789abcdefghi' });
    expect(wrong.status).toBe('fail');
    expect(wrong.fix).toContain('WECHAT_API_V3_KEY');
    expect(JSON.stringify(wrong)).not.toContain('WrongApiV3Key0123456789abcdefghi');
  });
});

describe('doctor, API v3 offline', () => {
  const setup: V3Setup = {
    apiV3Key: API_V3_KEY,
    merchantPrivateKey: MERCHANT_PRIVATE_KEY,
    merchantCertificate: MERCHANT_CERTIFICATE,
    serialNo: MERCHANT_SERIAL,
    payPublicKey: undefined,
  };

  it('names a public-key id copied without its PUB_KEY_ID_ prefix', () => {
    const pem = MERCHANT_PUBLIC_KEY;
    expect(checkPayPublicKey({ ...setup, payPublicKey: { id: 'PUB_KEY_ID_0119000001', pem } }).status).toBe(
      'ok',
    );
    const cut = checkPayPublicKey({
      ...setup,
      payPublicKey: { id: '0119000001092024010100000000000001', pem },
    });
    expect(cut.status).toBe('fail');
    expect(cut.message).toContain('PUB_KEY_ID_');
    expect(cut.fix).toContain('WECHAT_PAY_PUBLIC_KEY_ID=PUB_KEY_ID_');
  });

  it("names a WECHAT_MCH_CERT_SERIAL that is not the certificate's, with the right one", () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const input = { certPem: MERCHANT_CERTIFICATE, keyPem: MERCHANT_PRIVATE_KEY };
    const right = checkMerchantCertificate({ ...input, serialSetting: MERCHANT_SERIAL.toLowerCase() }, now);
    expect(right.find((r) => r.id === 'certificate.serial')?.status).toBe('ok');
    const wrong = checkMerchantCertificate({ ...input, serialSetting: '0123456789ABCDEF' }, now);
    const line = wrong.find((r) => r.id === 'certificate.serial')!;
    expect(line.status).toBe('fail');
    expect(line.fix).toBe(
      `set WECHAT_MCH_CERT_SERIAL=${MERCHANT_SERIAL}, or remove it: the serial is read from WECHAT_MCH_CERT`,
    );
  });
});

describe('doctor, clock and output', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const wechat = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000).toUTCString();

  it('warns past 60 s, and fails past 300 s only for v3 (whose signatures expire)', () => {
    expect(checkClockSkew(wechat(30), now, 'v3').status).toBe('ok');
    expect(checkClockSkew(wechat(-90), now, 'v3')).toMatchObject({
      status: 'warn',
      message: "this server's clock is 90 s ahead of WeChat's",
    });
    expect(checkClockSkew(wechat(400), now, 'v3')).toMatchObject({
      status: 'fail',
      message: "this server's clock is 400 s behind WeChat's",
    });
    expect(checkClockSkew(wechat(400), now, 'v2').status).toBe('warn');
    expect(checkClockSkew(undefined, now, 'v2').status).toBe('warn');
  });

  it('colours only when asked, honours NO_COLOR, and gives machines { ok, checks }', () => {
    const results = [
      { id: 'a', status: 'ok' as const, message: 'fine' },
      { id: 'b', status: 'fail' as const, message: 'broken', fix: 'set B=1' },
    ];
    expect(wantsColour(true, {})).toBe(true);
    expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(false, {})).toBe(false);
    expect(renderText(results, true)).toContain('\x1b[31m✗\x1b[0m broken\n    fix: set B=1');
    expect(renderText(results, false)).toBe(
      '✓ fine\n✗ broken\n    fix: set B=1\n\n1 check(s) failed, 0 warning(s).\n',
    );
    expect(JSON.parse(renderJson(results))).toEqual({ ok: false, checks: results });
  });
});
