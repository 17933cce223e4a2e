/**
 * Runs the real thing for service tests: the simulator over HTTP, the service listening on a
 * real port (the simulator posts notifications to it), and a database from test/db/dialects.ts.
 * Both share one frozen simulator clock, so tests move time explicitly.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type Catalogue, parseCatalogue } from '../../src/catalogue/catalogue.js';
import { API_VERSIONS, type ApiVersion, type Config, loadConfig } from '../../src/config.js';
import type { DbHandle } from '../../src/db/open.js';
import { freePort } from '../../src/http/free-port.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import type { V3KeyMode } from '../../src/simulator/config.js';
import { createSimClock, type SimClock } from '../../src/simulator/sim-clock.js';
import { createSimulator } from '../../src/simulator/simulator.js';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
} from '../fixtures/v3-keys.js';

export { API_VERSIONS, type ApiVersion };

/**
 * API v3 credentials: the merchant's certificate and key, and the WeChat Pay key pair whose
 * private half signs notifications (the simulator's, and the tests' forged-or-not ones).
 */
export const V3_CREDENTIALS = {
  apiV3Key: API_V3_KEY,
  merchantCert: MERCHANT_CERTIFICATE,
  merchantKey: MERCHANT_PRIVATE_KEY,
  merchantSerial: MERCHANT_SERIAL,
  payPrivateKey: PLATFORM_PRIVATE_KEY,
  payPublicKey: PLATFORM_PUBLIC_KEY,
} as const;

export const CREDENTIALS = {
  appid: 'wx1234567890abcdef',
  secret: 'test-app-secret-0123456789abcdef',
  mchId: '1900000109',
  key: 'SimulatorTestKey0123456789abcdef',
  adminToken: 'admin-token-0123456789abcdef0123456789',
} as const;

/** Every secret a response or a log line must never contain: the merchant keys, the AppSecret, the admin token. */
export const SECRETS = [
  CREDENTIALS.key,
  CREDENTIALS.secret,
  CREDENTIALS.adminToken,
  V3_CREDENTIALS.apiV3Key,
  // One line from the middle of the merchant private key stands for all of it.
  MERCHANT_PRIVATE_KEY.split('\n')[5]!,
];

/** The service's notification path for each API version. */
export const NOTIFY_PATHS: Record<ApiVersion, string> = {
  v2: '/payment/wxnotify',
  v3: '/payment/wxnotify/v3',
};

/**
 * The environment that puts the service on API v3 (a v3-only merchant: no v2 key), trusting the
 * simulator's WeChat Pay public key under the id the simulator chose.
 */
export function v3Env(payPublicKeyId: string): Record<string, string> {
  return {
    WECHAT_API_VERSION: 'v3',
    WECHAT_API_V3_KEY: V3_CREDENTIALS.apiV3Key,
    WECHAT_MCH_CERT: V3_CREDENTIALS.merchantCert,
    WECHAT_MCH_CERT_KEY: V3_CREDENTIALS.merchantKey,
    WECHAT_PAY_PUBLIC_KEY: V3_CREDENTIALS.payPublicKey,
    WECHAT_PAY_PUBLIC_KEY_ID: payPublicKeyId,
  };
}

/** The simulator's one merchant, holding CREDENTIALS (and its v3 certificate and APIv3 key). */
export const SIM_MERCHANTS = [
  {
    mchId: CREDENTIALS.mchId,
    key: CREDENTIALS.key,
    appids: [{ appid: CREDENTIALS.appid, secret: CREDENTIALS.secret }],
    cert: V3_CREDENTIALS.merchantCert,
    apiV3Key: V3_CREDENTIALS.apiV3Key,
  },
];

/** The fields of a successful payment notification for `order`, as WeChat would send them. */
export function paymentNotificationFields(
  order: { outTradeNo: string; amount: number },
  openid: string,
  transactionId: string,
) {
  return {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: CREDENTIALS.appid,
    mch_id: CREDENTIALS.mchId,
    nonce_str: 'n0nce',
    openid,
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: String(order.amount),
    cash_fee: String(order.amount),
    fee_type: 'CNY',
    transaction_id: transactionId,
    out_trade_no: order.outTradeNo,
    time_end: '20240101120530',
  };
}

export const CATALOGUE = [
  { sku: 'coffee', name: '美式咖啡', description: '中杯', price: 1 },
  { sku: 'latte', name: '拿铁', description: '大杯', price: 2800 },
  // 43 Chinese characters: 129 UTF-8 bytes, two over the 127-byte limit of `body` in 《统一下单》.
  { sku: 'long', name: '测'.repeat(43), description: '', price: 100 },
];

export interface Harness {
  version: ApiVersion;
  /** API v3: the key that signs WeChat's notifications, as the simulator signs them. */
  paySigner: { privateKey: string; serial: string };
  service: Service;
  app: FastifyInstance;
  serviceUrl: string;
  simulatorUrl: string;
  clock: SimClock;
  config: Readonly<Config>;
  logs: string[];
  /** Plays wx.login then POST /api/login; returns the bearer token and the openid. */
  login(): Promise<{ token: string; openid: string }>;
  sim(path: string, body?: unknown, method?: string): Promise<{ status: number; json: unknown }>;
  api(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  behaviour?: Record<string, unknown>;
  version?: ApiVersion;
  /** How the simulator signs API v3 (default `public-key`). */
  v3KeyMode?: V3KeyMode;
  /** The Pay API URL the service is given, from the simulator's (a proxy in front of it, say). */
  payBaseUrl?: (simulatorUrl: string) => string;
  /**
   * Where the frozen clock starts (2024-01-01 by default). A receiver that checks webhook
   * timestamps against its own system clock needs the clock to start at the real now.
   */
  startMs?: number;
}

export async function startHarness(database: DbHandle, overrides: HarnessOptions = {}): Promise<Harness> {
  const version = overrides.version ?? 'v2';
  const clock = createSimClock({
    startMs: overrides.startMs ?? Date.UTC(2024, 0, 1, 4, 0, 0),
    frozen: true,
  });
  const simulator = createSimulator({
    merchants: SIM_MERCHANTS,
    // The fixture's TEST-ONLY key: generating an RSA key per suite costs a second.
    v3PrivateKey: V3_CREDENTIALS.payPrivateKey,
    ...(overrides.v3KeyMode && { v3KeyMode: overrides.v3KeyMode }),
    clock,
    behaviour: { notifyTimeoutMs: 2000, ...overrides.behaviour },
  });
  const { url: simulatorUrl } = await simulator.listen({ port: 0, host: '127.0.0.1' });
  await simulator.v3Keys.ready();
  const paySigner = { privateKey: V3_CREDENTIALS.payPrivateKey, serial: simulator.v3Keys.publicKeyId() };

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const log = createLogger('debug', sink);
  // The notify URL is only known once the service listens; it is filled in below.
  const env: Record<string, string> = {
    WECHAT_APPID: CREDENTIALS.appid,
    WECHAT_SECRET: CREDENTIALS.secret,
    WECHAT_MCHID: CREDENTIALS.mchId,
    ...(version === 'v3' ? v3Env(paySigner.serial) : { WECHAT_MCH_KEY: CREDENTIALS.key }),
    WECHAT_PAY_BASE_URL: overrides.payBaseUrl?.(simulatorUrl) ?? simulatorUrl,
    WECHAT_API_BASE_URL: simulatorUrl,
    WECHAT_TIMEOUT_MS: '1000',
    ADMIN_TOKEN: CREDENTIALS.adminToken,
    ...overrides.env,
  };
  const port = await freePort();
  const { config, catalogue } = serviceSettings({
    ...env,
    WECHAT_NOTIFY_URL: `http://127.0.0.1:${port}${NOTIFY_PATHS[version]}`,
  });
  const service = await createService({
    config,
    catalogue,
    log,
    clock,
    database,
    sleep: async () => {},
  });
  await service.app.listen({ port, host: '127.0.0.1' });
  const serviceUrl = `http://127.0.0.1:${port}`;

  async function sim(path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') {
    const res = await fetch(`${simulatorUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  async function api(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    return fetch(`${serviceUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  return {
    version,
    paySigner,
    service,
    app: service.app,
    serviceUrl,
    simulatorUrl,
    clock,
    config,
    logs,
    sim,
    api,
    async login() {
      const { json } = await sim('/sim/login', { appid: CREDENTIALS.appid });
      const { code, openid } = json as { code: string; openid: string };
      const res = await api('POST', '/api/login', undefined, { code });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      const { token } = (await res.json()) as { token: string };
      return { token, openid };
    },
    async close() {
      await service.close();
      await simulator.close();
      clock.close();
    },
  };
}

export { freePort };

/** The configuration `env` gives and the test catalogue, or an error naming every problem. */
export function serviceSettings(env: Record<string, string>): { config: Config; catalogue: Catalogue } {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const catalogue = parseCatalogue(CATALOGUE);
  if (!catalogue.ok) throw new Error(catalogue.problems.join('; '));
  return { config: loaded.config, catalogue: catalogue.catalogue };
}
