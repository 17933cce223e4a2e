import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resolveBehaviour } from '../simulator/config.js';
import {
  createSimulator,
  generateTestCertificates,
  loadMerchantsFromEnv,
  loadMerchantsFromFile,
  type MerchantConfig,
  type SimTlsOptions,
  type Simulator,
  V3_KEY_MODES,
  type V3KeyMode,
} from '../simulator/index.js';
import { knobsFromFlags } from '../simulator/knobs.js';
import { untilSignal } from './args.js';
import { type CommandSpec, type Options, parseSpecArgs } from './command.js';
import type { Env } from './index.js';
import { startupFailure } from './startup-errors.js';

/**
 * `weapp-pay simulate`: runs the WeChat simulator until SIGINT/SIGTERM. Merchants come from the
 * service's own variables (WECHAT_APPID, WECHAT_SECRET, WECHAT_MCHID, WECHAT_MCH_KEY,
 * WECHAT_MCH_CERT) or from `--merchants file.json`. It prints what it serves, never a key or secret.
 */

/** The simulator's options; a new one is one entry here and one read in `startSimulator`. */
const SIMULATE_OPTIONS = [
  { flags: '--port <port>', about: 'HTTP port (default 3100; 0 picks a free one), e.g. --port 3100' },
  { flags: '--host <address>', about: 'address to listen on (default 127.0.0.1), e.g. --host 0.0.0.0' },
  {
    flags: '--merchants <file>',
    about: 'merchants from a JSON file instead of WECHAT_*, e.g. --merchants merchants.json',
  },
  { flags: '--time-scale <n>', about: 'divide notification waits by n (default 1), e.g. --time-scale 60' },
  {
    flags: '--tls-port <port>',
    about: 'HTTPS port for refunds with a client certificate (default 3101), e.g. --tls-port 3101',
  },
  {
    flags: '--tls-cert <file>',
    about: 'HTTPS server certificate (with --tls-key and --tls-ca), e.g. --tls-cert server.pem',
  },
  { flags: '--tls-key <file>', about: 'its private key, e.g. --tls-key server-key.pem' },
  { flags: '--tls-ca <file>', about: "CA of the merchants' client certificates, e.g. --tls-ca ca.pem" },
  {
    flags: '--cert-dir <dir>',
    about: 'where generated test certificates go (default ./data/sim-certs), e.g. --cert-dir /tmp/certs',
  },
  {
    flags: '--order-lifetime-days <days>',
    about: 'how long an order without time_expire stays payable (default 7), e.g. --order-lifetime-days 7',
  },
  {
    flags: '--knob <name=value...>',
    about:
      'set behaviour knobs (docs/simulator.md lists them; also POST /sim/knobs), e.g. --knob refundDelaySeconds=5 closeOrderRule=systemerror',
  },
  {
    flags: '--v3-key-mode <mode>',
    about:
      'how API v3 answers are signed: public-key, certificate or both (default public-key), e.g. --v3-key-mode both',
  },
];

const ROUTES = [
  'GET  /sns/jscode2session',
  'POST /pay/unifiedorder  /pay/orderquery  /pay/closeorder  /pay/refundquery  /pay/downloadbill',
  'POST /secapi/pay/refund (HTTPS port, merchant client certificate)',
  'POST /v3/pay/transactions/jsapi   GET /v3/pay/transactions/out-trade-no/{no}?mchid=  …/id/{id}?mchid=',
  'POST /v3/pay/transactions/out-trade-no/{no}/close   POST /v3/refund/domestic/refunds',
  'GET  /v3/refund/domestic/refunds/{no}   GET /v3/bill/tradebill   GET /v3/certificates',
];
const CONTROL = [
  'POST /sim/login {appid?, openid?, unionid?, high_risk?}   POST /sim/pay {prepay_id, result}',
  'GET  /sim/cashier?prepay_id=…          GET  /sim/orders   GET /sim/notifications',
  'GET  /sim/clock   POST /sim/clock/advance {seconds}',
  'GET|POST|DELETE /sim/faults            POST /sim/reset',
  'GET|POST|DELETE /sim/knobs {name: value}',
  'GET  /sim/v3/keys                      POST /sim/v3/rotate',
];

export interface RunningSimulator {
  simulator: Simulator;
  url: string;
  tlsUrl?: string;
  close(): Promise<void>;
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a number ≥ 0 (got ${JSON.stringify(value)})`);
  return n;
}

/** Test certificates for the HTTPS port: one CA, a server certificate, a client certificate per merchant. */
async function makeTestTls(
  merchants: MerchantConfig[],
  dir: string,
  write: (s: string) => void,
): Promise<SimTlsOptions> {
  await mkdir(dir, { recursive: true });
  const first = await generateTestCertificates({ mchId: merchants[0]!.mchId });
  const ca = { cert: first.ca, key: first.caKey };
  await writeFile(join(dir, 'ca.pem'), first.ca);
  for (const [i, m] of merchants.entries()) {
    const certs = i === 0 ? first : await generateTestCertificates({ mchId: m.mchId, ca });
    await writeFile(join(dir, `client-${m.mchId}-cert.pem`), certs.clientCert);
    await writeFile(join(dir, `client-${m.mchId}-key.pem`), certs.clientKey, { mode: 0o600 });
    // The same certificate signs API v3 requests: its serial is the merchant's serial_no.
    m.cert ??= certs.clientCert;
  }
  write(
    `  test certificates (throwaway, test only) in ${dir}: ca.pem, client-<mch_id>-cert.pem / -key.pem\n`,
  );
  return { cert: first.serverCert, key: first.serverKey, ca: first.ca };
}

/** Starts the simulator as the command line asks; `runSimulate` adds the signal handling. */
export async function startSimulateCommand(
  argv: string[],
  env: Env,
  write: (s: string) => void,
): Promise<RunningSimulator> {
  return startSimulator(parseSpecArgs(simulateCommand, argv).options, env, write);
}

async function startSimulator(
  options: Options,
  env: Env,
  write: (s: string) => void,
): Promise<RunningSimulator> {
  const values = {
    port: options.port as string | undefined,
    host: options.host as string | undefined,
    merchants: options.merchants as string | undefined,
    'time-scale': options.timeScale as string | undefined,
    'tls-port': options.tlsPort as string | undefined,
    'tls-cert': options.tlsCert as string | undefined,
    'tls-key': options.tlsKey as string | undefined,
    'tls-ca': options.tlsCa as string | undefined,
    'cert-dir': options.certDir as string | undefined,
    'order-lifetime-days': options.orderLifetimeDays as string | undefined,
    'v3-key-mode': options.v3KeyMode as string | undefined,
  };
  const merchants = values.merchants ? loadMerchantsFromFile(values.merchants) : loadMerchantsFromEnv(env);
  if (merchants.length === 0) {
    throw new Error(
      'no merchant configured: set WECHAT_APPID, WECHAT_SECRET, WECHAT_MCHID and WECHAT_MCH_KEY, or pass --merchants file.json',
    );
  }
  const port = number('port', values.port, 3100);
  const timeScale = number('time-scale', values['time-scale'], 1) || 1;
  let tls: SimTlsOptions | undefined;
  if (values['tls-cert'] || values['tls-key'] || values['tls-ca']) {
    if (!values['tls-cert'] || !values['tls-key'] || !values['tls-ca'])
      throw new Error('--tls-cert, --tls-key and --tls-ca go together');
    tls = {
      cert: readFileSync(values['tls-cert'], 'utf8'),
      key: readFileSync(values['tls-key'], 'utf8'),
      ca: readFileSync(values['tls-ca'], 'utf8'),
    };
  } else if (values['tls-port'] !== undefined || merchants.some((m) => m.cert)) {
    tls = await makeTestTls(merchants, resolve(values['cert-dir'] ?? './data/sim-certs'), write);
  }
  const v3KeyMode = values['v3-key-mode'] ?? 'public-key';
  if (!(V3_KEY_MODES as readonly string[]).includes(v3KeyMode))
    throw new Error(
      `--v3-key-mode must be one of ${V3_KEY_MODES.join(', ')} (got ${JSON.stringify(v3KeyMode)})`,
    );
  // WECHAT_PAY_PRIVATE_KEY is the simulator's own WeChat Pay key (a path or a PEM), never the service's.
  const payKey = env.WECHAT_PAY_PRIVATE_KEY;
  const v3PrivateKey = payKey
    ? payKey.includes('-----BEGIN')
      ? payKey
      : readFileSync(payKey, 'utf8')
    : undefined;
  const log = { info: (m: string) => write(`${m}\n`), warn: (m: string) => write(`warn: ${m}\n`) };
  const lifetime = values['order-lifetime-days'];
  const knobs = knobsFromFlags(
    (options.knob as string[] | undefined) ?? [],
    resolveBehaviour({}, tls !== undefined),
  );
  if ('problems' in knobs) throw new Error(`--knob: ${knobs.problems.join('; ')}`);
  const behaviour = {
    ...(lifetime === undefined ? {} : { orderLifetimeDays: number('order-lifetime-days', lifetime, 0) }),
    ...knobs.ok,
  };
  const simulator = createSimulator({
    merchants,
    timeScale,
    log,
    behaviour,
    v3KeyMode: v3KeyMode as V3KeyMode,
    ...(v3PrivateKey ? { v3PrivateKey } : {}),
    ...(tls ? { tls } : {}),
  });
  const listening = await simulator.listen({
    port,
    host: values.host ?? '127.0.0.1',
    tlsPort: number('tls-port', values['tls-port'], port === 0 ? 0 : 3101),
  });
  write('weapp-pay simulator: WeChat login + Pay API v2 and v3 (no real money)\n');
  write(`  http   ${listening.url}\n`);
  if (listening.tlsUrl) write(`  https  ${listening.tlsUrl}  (mutual TLS for /secapi/pay/refund)\n`);
  else
    write(
      '  no HTTPS port: refunds are accepted over plain HTTP (pass --tls-port to require the client certificate)\n',
    );
  write(
    `  v3 keys: ${v3KeyMode} mode, WeChat Pay private key ${v3PrivateKey ? 'from WECHAT_PAY_PRIVATE_KEY' : 'generated'}; public key and certificates at ${listening.url}/sim/v3/keys\n`,
  );
  for (const m of merchants)
    write(`  merchant ${m.mchId}: appids ${m.appids.map((a) => a.appid).join(', ')}\n`);
  const set = Object.entries(knobs.ok).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (set.length > 0) write(`  knobs: ${set.join(' ')}\n`);
  write(`  time scale ${timeScale}\n  WeChat routes:\n${ROUTES.map((r) => `    ${r}\n`).join('')}`);
  write(`  control routes:\n${CONTROL.map((r) => `    ${r}\n`).join('')}`);
  write(
    `  point the service here: WECHAT_PAY_BASE_URL=${listening.tlsUrl ?? listening.url} WECHAT_API_BASE_URL=${listening.url}\n`,
  );
  return { simulator, ...listening, close: () => simulator.close() };
}

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  summary: 'run the WeChat simulator (login + Pay API v2 and v3) on port 3100, no real money',
  options: SIMULATE_OPTIONS,
  env: ['WECHAT_APPID', 'WECHAT_SECRET', 'WECHAT_MCHID', 'WECHAT_MCH_KEY', 'WECHAT_MCH_CERT'],
  examples: [
    'weapp-pay simulate --port 3100 --time-scale 60',
    'weapp-pay simulate --merchants merchants.json --tls-port 3101',
  ],
  readsSettings: true,
  async run(_args, options, { env, io, untilStopped }) {
    let running: RunningSimulator;
    try {
      running = await startSimulator(options, env, io.out);
    } catch (error) {
      const port = Number(options.port ?? 3100);
      const tlsPort = Number(options.tlsPort ?? (port === 0 ? 0 : 3101));
      const listeners = [
        { what: 'simulator', port, setting: '--port' },
        { what: "simulator's HTTPS", port: tlsPort, setting: '--tls-port' },
      ];
      io.err(
        `${startupFailure(error, { listeners }, env.LOG_LEVEL?.trim()).replace(/^weapp-pay: /, 'weapp-pay simulate: ')}`,
      );
      io.err('Run `weapp-pay simulate --help` for the options.\n');
      return 1;
    }
    await (untilStopped ?? untilSignal)();
    await running.close();
    return 0;
  },
};
