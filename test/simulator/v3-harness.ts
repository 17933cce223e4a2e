import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { MerchantConfig, PublishedKeys } from '../../src/simulator/index.js';
import { createV3Client, type V3ClientOptions } from '../../src/wechat/v3/client.js';
import { createV3KeyStore, type V3KeyStore } from '../../src/wechat/v3/keys.js';
import { signRequestV3, verifyWechatpayHeaders } from '../../src/wechat/v3/sign.js';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
  PLATFORM_PRIVATE_KEY,
} from '../fixtures/v3-keys.js';
import { APPID, MCH_ID, MERCHANTS, type SimOptions, startSim } from './harness.js';

/**
 * Shared set-up for the simulator's API v3 tests: the merchant signs with the TEST-ONLY key of
 * test/fixtures/v3-keys.ts (its certificate is the merchant's `cert`), and every answer is
 * checked against the keys the simulator publishes at /sim/v3/keys.
 */

export { API_V3_KEY, MERCHANT_PRIVATE_KEY, MERCHANT_SERIAL };

export const V3_MERCHANTS: MerchantConfig[] = [
  { ...MERCHANTS[0]!, cert: MERCHANT_CERTIFICATE, apiV3Key: API_V3_KEY },
  MERCHANTS[1]!,
];

export interface V3Response {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the route sent
  body: any;
}

export interface CallOptions {
  mchid?: string;
  serial?: string;
  privateKey?: string;
  /** Unix seconds; default the simulator's now. */
  timestamp?: number;
  headers?: Record<string, string>;
  /** Sign these bytes instead of the ones sent (a forged signature). */
  signedBody?: string;
}

export async function startV3Sim(options: SimOptions = {}) {
  // The fixtures' TEST-ONLY platform key by default: generating an RSA key per test costs a second.
  const h = await startSim({
    merchants: V3_MERCHANTS,
    ...options,
    v3: { v3PrivateKey: PLATFORM_PRIVATE_KEY, ...options.v3 },
  });
  const nowSeconds = () => Math.floor(h.clock.now() / 1000);

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    o: CallOptions = {},
  ): Promise<V3Response> {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const authorization = signRequestV3({
      method,
      pathWithQuery: path,
      body: o.signedBody ?? text,
      mchid: o.mchid ?? MCH_ID,
      serialNo: o.serial ?? MERCHANT_SERIAL,
      privateKey: o.privateKey ?? MERCHANT_PRIVATE_KEY,
      timestamp: o.timestamp ?? nowSeconds(),
      nonce: randomBytes(16).toString('hex').toUpperCase(),
    });
    const res = await request(`${h.url}${path}`, {
      method,
      headers: {
        authorization,
        accept: 'application/json',
        'user-agent': 'weapp-pay-test',
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(method === 'POST' ? { body: text } : {}),
    });
    const raw = await res.body.text();
    let parsed: unknown;
    try {
      parsed = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text: raw, body: parsed };
  }

  async function keys(): Promise<PublishedKeys> {
    return (await h.json('GET', '/sim/v3/keys')).body;
  }

  /** Verifies a response (or notification) against what /sim/v3/keys publishes right now. */
  async function verify(res: { headers: IncomingHttpHeaders; text: string }) {
    const published = await keys();
    const store = createV3KeyStore({
      publicKey: { id: published.publicKeyId, pem: published.publicKeyPem },
      certificates: published.certificates.map((c) => ({
        serial: c.serial,
        pem: c.pem,
        notAfter: Math.floor(Date.parse(c.notAfter) / 1000),
      })),
    });
    return verifyWechatpayHeaders({
      headers: res.headers,
      body: res.text,
      keys: store.resolve,
      nowSeconds: nowSeconds(),
    });
  }

  /** A JSAPI order for a freshly logged-in user; returns its prepay_id. */
  async function order(outTradeNo: string, notifyUrl = 'https://merchant.example/notify', total = 100) {
    const { openid } = await h.login();
    const res = await call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody(outTradeNo, openid, notifyUrl, total),
    );
    if (res.status !== 200) throw new Error(`jsapi ${res.status}: ${res.text}`);
    return { prepayId: res.body.prepay_id as string, openid };
  }

  /** weapp-pay's own v3 client for the test merchant, on this simulator's clock. */
  function ourClient(keyStore: V3KeyStore, overrides: Partial<V3ClientOptions> = {}) {
    return createV3Client({
      baseUrl: h.url,
      mchid: MCH_ID,
      appid: APPID,
      serialNo: MERCHANT_SERIAL,
      privateKey: MERCHANT_PRIVATE_KEY,
      apiV3Key: API_V3_KEY,
      keys: keyStore,
      nowSeconds,
      ...overrides,
    });
  }

  return { ...h, call, keys, verify, order, nowSeconds, ourClient };
}

export type V3Harness = Awaited<ReturnType<typeof startV3Sim>>;

export function jsapiBody(outTradeNo: string, openid: string, notifyUrl: string, total = 100) {
  return {
    appid: APPID,
    mchid: MCH_ID,
    description: '测试商品-咖啡',
    out_trade_no: outTradeNo,
    notify_url: notifyUrl,
    amount: { total, currency: 'CNY' },
    payer: { openid },
  };
}

export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  text: string;
}

/** A merchant endpoint for v3 notifications, answering status n to the n-th request. */
export async function startV3Receiver(statusOf: (n: number, got: ReceivedNotification) => number) {
  const received: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { headers: req.headers, text: Buffer.concat(chunks).toString('utf8') };
      received.push(got);
      const status = statusOf(received.length, got);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '' : '{"code":"FAIL","message":"失败"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payment/notify/v3`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
