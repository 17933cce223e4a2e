import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PublishedKeys } from '../../src/simulator/index.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { type CountingProxy, startCountingProxy } from '../service/counting-proxy.js';
import { CATALOGUE, CREDENTIALS, freePort, V3_CREDENTIALS } from '../service/harness.js';
import { tempDir } from './cli-harness.js';
import { type CliProcess, startCliProcess } from './cli-process.js';

const DOWNLOAD = 'GET /v3/certificates';

/**
 * `weapp-pay simulate --v3-key-mode certificate|both` and `weapp-pay serve` as two child
 * processes, configured only as a merchant would configure them: the service verifies WeChat with
 * downloaded platform certificates (no WECHAT_PAY_PUBLIC_KEY), or with the public key during the
 * migration, and takes payments end to end. A proxy between them counts certificate downloads.
 * Rotations and made-up serials need the clock moved: test/service/v3-platform-certificates.test.ts.
 */
const cleanups: (() => void)[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  for (const clean of cleanups.splice(0)) clean();
});

const MERCHANT_ENV = {
  WECHAT_APPID: CREDENTIALS.appid,
  WECHAT_SECRET: CREDENTIALS.secret,
  WECHAT_MCHID: CREDENTIALS.mchId,
  WECHAT_API_V3_KEY: V3_CREDENTIALS.apiV3Key,
  WECHAT_MCH_CERT: V3_CREDENTIALS.merchantCert,
};

async function startPair(database: TestDbHandle, mode: 'certificate' | 'both') {
  const dir = tempDir(cleanups);
  const simulator = await startCliProcess(
    ['simulate', '--port', '0', '--v3-key-mode', mode, '--cert-dir', join(dir, 'certs')],
    {
      cwd: dir,
      env: {
        ...MERCHANT_ENV,
        WECHAT_MCH_KEY: CREDENTIALS.key,
        WECHAT_PAY_PRIVATE_KEY: V3_CREDENTIALS.payPrivateKey,
      },
      ready: /http {3}(http:\/\/\S+)/,
    },
  );
  stops.push(() => simulator.stop());
  const simulatorUrl = simulator.match[1]!;
  const proxy: CountingProxy = await startCountingProxy();
  stops.push(() => proxy.close());
  proxy.forwardTo(simulatorUrl);
  const keys = (await (await fetch(`${simulatorUrl}/sim/v3/keys`)).json()) as PublishedKeys;

  const catalogue = join(dir, 'catalogue.json');
  writeFileSync(catalogue, JSON.stringify(CATALOGUE));
  const port = await freePort();
  const service: CliProcess = await startCliProcess(
    ['serve', '--port', String(port), '--host', '127.0.0.1'],
    {
      cwd: dir,
      env: {
        ...MERCHANT_ENV,
        DATABASE_URL: database.url,
        WECHAT_API_VERSION: 'v3',
        WECHAT_MCH_CERT_KEY: V3_CREDENTIALS.merchantKey,
        // The migration: the public key is set, and certificates still sign some notifications.
        ...(mode === 'both' && {
          WECHAT_PAY_PUBLIC_KEY: keys.publicKeyPem,
          WECHAT_PAY_PUBLIC_KEY_ID: keys.publicKeyId,
        }),
        WECHAT_PAY_BASE_URL: proxy.url,
        WECHAT_API_BASE_URL: simulatorUrl,
        WECHAT_NOTIFY_URL: `http://127.0.0.1:${port}/payment/wxnotify/v3`,
        ADMIN_TOKEN: CREDENTIALS.adminToken,
        CATALOGUE_FILE: catalogue,
      },
      ready: /listening on (http:\/\/\S+)/,
    },
  );
  stops.push(() => service.stop());
  return { simulatorUrl, serviceUrl: service.match[1]!, proxy, keys, service };
}

/** Logs in, buys a coffee and pays it at the simulator; answers the order once PAID, and its notification's serial. */
async function buyAndPay(simulatorUrl: string, serviceUrl: string) {
  const post = async (url: string, body: unknown, token?: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
  const { code } = (await (await post(`${simulatorUrl}/sim/login`, { appid: CREDENTIALS.appid })).json()) as {
    code: string;
  };
  const { token } = (await (await post(`${serviceUrl}/api/login`, { code })).json()) as { token: string };
  const created = await post(`${serviceUrl}/api/orders`, { sku: 'coffee', quantity: 1 }, token);
  expect(created.status).toBe(201);
  const { order, payment } = (await created.json()) as {
    order: { id: string; outTradeNo: string };
    payment: { package: string };
  };
  const paid = await post(`${simulatorUrl}/sim/pay`, {
    prepay_id: payment.package.slice('prepay_id='.length),
    result: 'SUCCESS',
    appId: CREDENTIALS.appid,
    payment,
  });
  expect(paid.status).toBe(200);
  let status = '';
  for (let i = 0; i < 100 && status !== 'PAID'; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = await fetch(`${serviceUrl}/api/orders/${order.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    status = ((await seen.json()) as { order: { status: string } }).order.status;
  }
  // The order is PAID before the simulator has read the 204: wait until it has recorded the answer.
  let attempts: { status: string; http_status: number | null; v3: { headers: Record<string, string> } }[] =
    [];
  for (let i = 0; i < 100; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const sent = await fetch(`${simulatorUrl}/sim/notifications?out_trade_no=${order.outTradeNo}`);
    attempts = ((await sent.json()) as { attempts: typeof attempts }).attempts;
    if (attempts.every((a) => a.status === 'delivered' || a.status === 'failed')) break;
  }
  return {
    status,
    // The first attempt's key; on a machine so busy that an attempt timed out, its retry may follow.
    firstSerial: attempts[0]?.v3.headers['Wechatpay-Serial'],
    // What the service answered: 204 each time, never a refusal.
    answers: [...new Set(attempts.flatMap((a) => (a.http_status === null ? [] : [a.http_status])))],
  };
}

for (const database of testDatabases()) {
  describe(`weapp-pay serve against weapp-pay simulate --v3-key-mode, on ${database.name}`, {
    timeout: 120_000,
  }, () => {
    it('certificate: no public key set, the service downloads the certificates at start-up and takes a payment', async () => {
      const db = await database.openMigrated();
      stops.push(() => db.close());
      const { simulatorUrl, serviceUrl, proxy, keys } = await startPair(db, 'certificate');
      expect(proxy.count(DOWNLOAD)).toBe(1);
      const certificate = keys.certificates[0]!.serial;
      expect(await buyAndPay(simulatorUrl, serviceUrl)).toEqual({
        status: 'PAID',
        firstSerial: certificate,
        answers: [204],
      });
      expect(proxy.count(DOWNLOAD)).toBe(1);
    });

    it('both: the public key set, the first certificate-signed notification costs one download and is accepted', async () => {
      const db = await database.openMigrated();
      stops.push(() => db.close());
      const { simulatorUrl, serviceUrl, proxy, keys, service } = await startPair(db, 'both');
      expect(proxy.count(DOWNLOAD)).toBe(0);
      const certificate = keys.certificates[0]!.serial;
      // The simulator's notifications alternate between the two keys, public key first.
      expect(await buyAndPay(simulatorUrl, serviceUrl)).toEqual({
        status: 'PAID',
        firstSerial: keys.publicKeyId,
        answers: [204],
      });
      expect(await buyAndPay(simulatorUrl, serviceUrl)).toEqual({
        status: 'PAID',
        firstSerial: certificate,
        answers: [204],
      });
      expect(proxy.count(DOWNLOAD)).toBe(1);
      expect(service.output()).toContain('platform certificates loaded');
    });
  });
}
