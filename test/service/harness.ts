/**
 * Runs the real thing for service tests: the simulator over HTTP, the service listening on a
 * real port (the simulator posts notifications to it), and a database from test/db/dialects.ts.
 * Both share one frozen simulator clock, so tests move time explicitly.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { DbHandle } from '../../src/db/open.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import { createSimClock, type SimClock } from '../../src/simulator/sim-clock.js';
import { createSimulator } from '../../src/simulator/simulator.js';

export const CREDENTIALS = {
  appid: 'wx1234567890abcdef',
  secret: 'test-app-secret-0123456789abcdef',
  mchId: '1900000109',
  key: 'SimulatorTestKey0123456789abcdef',
  adminToken: 'admin-token-0123456789abcdef0123456789',
} as const;

/** The simulator's one merchant, holding CREDENTIALS. */
export const SIM_MERCHANTS = [
  {
    mchId: CREDENTIALS.mchId,
    key: CREDENTIALS.key,
    appids: [{ appid: CREDENTIALS.appid, secret: CREDENTIALS.secret }],
  },
];

/** Every secret a response or a log line must never contain: the merchant key, the AppSecret, the admin token. */
export const SECRETS = [CREDENTIALS.key, CREDENTIALS.secret, CREDENTIALS.adminToken];

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

export async function startHarness(
  database: DbHandle,
  overrides: { env?: Record<string, string>; behaviour?: Record<string, unknown> } = {},
): Promise<Harness> {
  const clock = createSimClock({ startMs: Date.UTC(2024, 0, 1, 4, 0, 0), frozen: true });
  const simulator = createSimulator({
    merchants: SIM_MERCHANTS,
    clock,
    behaviour: { notifyTimeoutMs: 2000, ...overrides.behaviour },
  });
  const { url: simulatorUrl } = await simulator.listen({ port: 0, host: '127.0.0.1' });

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const log = createLogger('debug', sink);
  // The notify URL is only known once the service listens; it is filled in below.
  const env = {
    WECHAT_APPID: CREDENTIALS.appid,
    WECHAT_SECRET: CREDENTIALS.secret,
    WECHAT_MCHID: CREDENTIALS.mchId,
    WECHAT_MCH_KEY: CREDENTIALS.key,
    WECHAT_NOTIFY_URL: 'http://127.0.0.1:1/payment/wxnotify',
    WECHAT_PAY_BASE_URL: simulatorUrl,
    WECHAT_API_BASE_URL: simulatorUrl,
    WECHAT_TIMEOUT_MS: '1000',
    ADMIN_TOKEN: CREDENTIALS.adminToken,
    ...overrides.env,
  };
  const port = await freePort();
  const loaded = loadConfig({ ...env, WECHAT_NOTIFY_URL: `http://127.0.0.1:${port}/payment/wxnotify` });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const catalogue = parseCatalogue(CATALOGUE);
  if (!catalogue.ok) throw new Error(catalogue.problems.join('; '));
  const service = await createService({
    config: loaded.config,
    catalogue: catalogue.catalogue,
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
    service,
    app: service.app,
    serviceUrl,
    simulatorUrl,
    clock,
    config: loaded.config,
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

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
