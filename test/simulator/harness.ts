import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type {
  MerchantConfig,
  SimBehaviour,
  SimClock,
  SimTlsOptions,
  SimulatorOptions,
  TestCertificates,
} from '../../src/simulator/index.js';
import {
  createSimClock,
  createSimulator,
  generateTestCertificates,
  type NotificationAttempt,
} from '../../src/simulator/index.js';
import { createLoginClient } from '../../src/wechat/login/code2session.js';
import { createV2Client, type V2ClientOptions } from '../../src/wechat/v2/client.js';
import { type V2SignType, withSignV2 } from '../../src/wechat/v2/sign.js';
import { buildXml, parseXml } from '../../src/wechat/v2/xml.js';

/** Shared set-up for the simulator acceptance tests: a frozen clock, real HTTP on 127.0.0.1. */

export const START_MS = Date.UTC(2024, 0, 1, 4, 5, 30); // 2024-01-01 12:05:30 Beijing
export const KEY = 'SimulatorTestKey0123456789abcdef';
export const MCH_ID = '1900000109';
export const APPID = 'wx1234567890abcdef';
export const SECRET = 'sim-test-app-secret-0001';
export const OTHER_KEY = 'OtherMerchantKey0123456789abcdef';
export const OTHER_MCH_ID = '1900000200';
export const OTHER_APPID = 'wx00000000000000b2';

export const MERCHANTS: MerchantConfig[] = [
  { mchId: MCH_ID, key: KEY, appids: [{ appid: APPID, secret: SECRET }], name: '测试商户' },
  { mchId: OTHER_MCH_ID, key: OTHER_KEY, appids: [{ appid: OTHER_APPID, secret: 'other-secret' }] },
];

export interface SimOptions {
  behaviour?: Partial<SimBehaviour>;
  tls?: SimTlsOptions;
  timeScale?: number;
  merchants?: MerchantConfig[];
  /** API v3: which WeChat Pay key signs, and that key (default: generated). */
  v3?: Pick<SimulatorOptions, 'v3KeyMode' | 'v3PrivateKey'>;
  /** Default: frozen at START_MS. */
  clock?: SimClock;
}

export async function startSim(options: SimOptions = {}) {
  const clock = options.clock ?? createSimClock({ frozen: true, startMs: START_MS });
  const sim = createSimulator({
    merchants: options.merchants ?? MERCHANTS,
    clock,
    ...(options.behaviour ? { behaviour: options.behaviour } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...options.v3,
  });
  const { url, tlsUrl } = await sim.listen({ port: 0, tlsPort: 0 });
  const clients: { close(): Promise<void> }[] = [];

  const json = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers = {}) => {
    const res = await request(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test helper returns whatever JSON the route sent
    return { status: res.statusCode, body: (await res.body.json()) as any };
  };

  return {
    sim,
    clock,
    url,
    tlsUrl,
    json,
    client(overrides: Partial<V2ClientOptions> = {}) {
      const c = createV2Client({
        baseUrl: url,
        appid: APPID,
        mchId: MCH_ID,
        key: KEY,
        timeoutMs: 2000,
        ...overrides,
      });
      clients.push(c);
      return c;
    },
    loginClient(overrides: { appid?: string; secret?: string; timeoutMs?: number } = {}) {
      const c = createLoginClient({
        baseUrl: url,
        appid: APPID,
        secret: SECRET,
        timeoutMs: 2000,
        ...overrides,
      });
      clients.push(c);
      return c;
    },
    async login(appid = APPID): Promise<{ code: string; openid: string }> {
      return (await json('POST', '/sim/login', { appid })).body;
    },
    async pay(prepayId: string, result = 'SUCCESS', headers = {}) {
      return json('POST', '/sim/pay', { prepay_id: prepayId, result }, headers);
    },
    async attempts(query = ''): Promise<NotificationAttempt[]> {
      return (await json('GET', `/sim/notifications${query}`)).body.attempts;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await sim.close();
    },
  };
}

export type SimHarness = Awaited<ReturnType<typeof startSim>>;

let certificates: Promise<TestCertificates> | undefined;

/** Throwaway certificates for MCH_ID, made once per test file (openssl takes a few hundred ms). */
export function testCertificates(): Promise<TestCertificates> {
  certificates ??= generateTestCertificates({ mchId: MCH_ID });
  return certificates;
}

/** A simulator with its HTTPS (mTLS) port, and a client that calls it with the merchant certificate. */
export async function startTlsSim(options: SimOptions = {}) {
  const certs = await testCertificates();
  const h = await startSim({
    ...options,
    tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca },
  });
  const tlsUrl = h.tlsUrl!;
  return {
    ...h,
    certs,
    /** The merchant's client over HTTPS: all calls, refunds with the client certificate. */
    tlsClient(overrides: Partial<V2ClientOptions> = {}) {
      return h.client({
        baseUrl: tlsUrl,
        ca: certs.ca,
        clientCert: { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca },
        ...overrides,
      });
    },
  };
}

/** A merchant notify endpoint answering from a script: reply n goes to the n-th request. */
export async function startReceiver(
  script: (n: number, body: string) => { status?: number; body: string } | 'hang',
) {
  const received: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push(body);
      const answer = script(received.length, body);
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, { 'content-type': 'text/xml' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payment/notify/v2`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const SUCCESS_REPLY =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
export const FAIL_REPLY =
  '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>';

/** A hand-built signed v2 request, for what the typed client refuses to send. */
export function signedXml(fields: Record<string, string>, key = KEY, signType: V2SignType = 'MD5'): string {
  return buildXml(
    withSignV2({ appid: APPID, mch_id: MCH_ID, nonce_str: 'Xk3pQ9zT2vLm8RsW', ...fields }, key, signType),
  );
}

/** POSTs raw bytes and parses the XML answer. */
export async function postRaw(
  url: string,
  body: string | Buffer | undefined,
  method: 'POST' | 'GET' = 'POST',
) {
  const res = await request(url, {
    method,
    headers: { 'content-type': 'text/xml' },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  let fields: Record<string, string> = {};
  try {
    fields = { ...parseXml(text) };
  } catch {
    // Not XML (bill text, HTML error page): callers look at `text`.
  }
  return { status: res.statusCode, text, fields, headers: res.headers };
}

/** A valid JSAPI unifiedorder input for `openid`. */
export function orderInput(outTradeNo: string, openid: string, notifyUrl: string, totalFee = 100) {
  return { body: '测试商品-咖啡', outTradeNo, totalFee, spbillCreateIp: '127.0.0.1', notifyUrl, openid };
}
