import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
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
import type { Env } from './index.js';

/**
 * `weapp-pay simulate`: runs the WeChat simulator until SIGINT/SIGTERM. Merchants come from the
 * service's own variables (WECHAT_APPID, WECHAT_SECRET, WECHAT_MCHID, WECHAT_MCH_KEY,
 * WECHAT_MCH_CERT) or from `--merchants file.json`. It prints what it serves, never a key or secret.
 */

const USAGE = `Usage: weapp-pay simulate [--port 3100] [--host 127.0.0.1] [--merchants file.json]
                         [--time-scale N] [--tls-port 3101] [--tls-cert f --tls-key f --tls-ca f]
                         [--cert-dir ./data/sim-certs] [--v3-key-mode public-key|certificate|both]
`;

const ROUTES = [
  'GET  /sns/jscode2session',
  'POST /pay/unifiedorder  /pay/orderquery  /pay/closeorder  /pay/refundquery  /pay/downloadbill',
  'POST /secapi/pay/refund (HTTPS port, merchant client certificate)',
  'POST /v3/pay/transactions/jsapi   GET /v3/pay/transactions/out-trade-no/{no}?mchid=  …/id/{id}?mchid=',
  'POST /v3/pay/transactions/out-trade-no/{no}/close   POST /v3/refund/domestic/refunds',
  'GET  /v3/refund/domestic/refunds/{no}   GET /v3/bill/tradebill   GET /v3/certificates',
];
const CONTROL = [
  'POST /sim/login {appid?, openid?}      POST /sim/pay {prepay_id, result}',
  'GET  /sim/cashier?prepay_id=…          GET  /sim/orders   GET /sim/notifications',
  'GET  /sim/clock   POST /sim/clock/advance {seconds}',
  'GET|POST|DELETE /sim/faults            POST /sim/reset',
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
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'cert-dir': { type: 'string' },
      merchants: { type: 'string' },
      'time-scale': { type: 'string' },
      'v3-key-mode': { type: 'string' },
    },
    strict: true,
  });
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
  const simulator = createSimulator({
    merchants,
    timeScale,
    log,
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
  for (const m of merchants)
    write(`  merchant ${m.mchId}: appids ${m.appids.map((a) => a.appid).join(', ')}\n`);
  write(
    `  v3 keys: ${v3KeyMode} mode, WeChat Pay private key ${v3PrivateKey ? 'from WECHAT_PAY_PRIVATE_KEY' : 'generated'}; public key and certificates at ${listening.url}/sim/v3/keys\n`,
  );
  write(`  time scale ${timeScale}\n  WeChat routes:\n${ROUTES.map((r) => `    ${r}\n`).join('')}`);
  write(`  control routes:\n${CONTROL.map((r) => `    ${r}\n`).join('')}`);
  write(
    `  point the service here: WECHAT_PAY_BASE_URL=${listening.tlsUrl ?? listening.url} WECHAT_API_BASE_URL=${listening.url}\n`,
  );
  return { simulator, ...listening, close: () => simulator.close() };
}

export async function runSimulate(argv: string[], env: Env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let running: RunningSimulator;
  try {
    running = await startSimulateCommand(argv, env, (s) => process.stdout.write(s));
  } catch (error) {
    process.stderr.write(`weapp-pay simulate: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await running.close();
  return 0;
}
