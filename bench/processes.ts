/**
 * The processes under test. Each server runs in a node process of its own, so its peak RSS is
 * its own and the load generator (this process) does not share its event loop:
 *
 * - the service: `bin/weapp-pay.js serve`, the production entry point built in dist/;
 * - the simulator: `bin/weapp-pay.js simulate` (WeChat's side of order creation and login);
 * - the baseline: bench/baseline-server.mjs, a bare Fastify "hello" route.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
} from '../test/fixtures/v3-keys.js';
import type { AnchorName } from './args.js';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/**
 * BENCH_SERVICE_ROOT runs the service from another checkout's build (say, the commit before a
 * change), with this harness: how the before/after figures in docs/performance.md were taken.
 */
const SERVICE_ROOT = process.env.BENCH_SERVICE_ROOT || REPO_ROOT;
const CLI = join(SERVICE_ROOT, 'bin', 'weapp-pay.js');
const BASELINE = fileURLToPath(new URL('./baseline-server.mjs', import.meta.url));
const NOTIFY_NODB = fileURLToPath(new URL('./notify-nodb-server.mjs', import.meta.url));
const WEBHOOK_RECEIVER = fileURLToPath(new URL('./webhook-receiver.mjs', import.meta.url));
const SQL_CAPTURE = fileURLToPath(new URL('./sql-capture.mjs', import.meta.url));
const SOAK_PROBE = fileURLToPath(new URL('./soak-probe.mjs', import.meta.url));
const ANCHOR_SCRIPTS: Readonly<Record<AnchorName, string>> = {
  'anchor-koa': fileURLToPath(new URL('./anchors/koa-xmljs-md5.mjs', import.meta.url)),
  'anchor-fastify': fileURLToPath(new URL('./anchors/fastify-fxp.mjs', import.meta.url)),
};
const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  url: string;
  pid: number;
  /** Peak resident set size so far (VmHWM), in bytes; undefined where /proc is missing. */
  peakRss(): number | undefined;
  /** CPU time (user + system) the process has used so far, in seconds; undefined without /proc. */
  cpuSeconds(): number | undefined;
  /** SIGTERM, then waits for a clean exit (which also writes a --cpu-prof profile). */
  stop(): Promise<void>;
}

/** Merchant credentials shared by the service and the simulator for one bench run; test values only. */
export const BENCH_CREDENTIALS = {
  appid: 'wxbe0c4a11b5e1f00d',
  secret: 'bench-app-secret-0123456789abcdef',
  mchId: '1900000109',
  key: 'BenchmarkKey0123456789abcdefABCD',
} as const;

/**
 * API v3 for the v3 notification scenario: the TEST-ONLY keys of test/fixtures/v3-keys.ts
 * (they protect nothing); the bench signs notifications with the WeChat Pay private key.
 */
export const BENCH_V3 = {
  apiV3Key: API_V3_KEY,
  payPrivateKey: PLATFORM_PRIVATE_KEY,
  payPublicKeyId: PLATFORM_PUBLIC_KEY_ID,
  env: {
    WECHAT_API_VERSION: 'v3',
    WECHAT_API_V3_KEY: API_V3_KEY,
    WECHAT_MCH_CERT: MERCHANT_CERTIFICATE,
    WECHAT_MCH_CERT_KEY: MERCHANT_PRIVATE_KEY,
    WECHAT_PAY_PUBLIC_KEY: PLATFORM_PUBLIC_KEY,
    WECHAT_PAY_PUBLIC_KEY_ID: PLATFORM_PUBLIC_KEY_ID,
  },
} as const;

/** Environment for the service: production settings, the simulator as WeChat. */
export function serviceEnv(
  databaseUrl: string,
  simulatorUrl: string,
  version: 'v2' | 'v3' = 'v2',
): NodeJS.ProcessEnv {
  const c = BENCH_CREDENTIALS;
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    // warn by default, so a run measures the service and not its access log: `BENCH_LOG_LEVEL=info` for the default level.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    WECHAT_APPID: c.appid,
    WECHAT_SECRET: c.secret,
    WECHAT_MCHID: c.mchId,
    ...(version === 'v3' ? BENCH_V3.env : { WECHAT_MCH_KEY: c.key }),
    // Only a field in unifiedorder here: the bench posts the notifications itself.
    WECHAT_NOTIFY_URL: `http://127.0.0.1:9/payment/wxnotify${version === 'v3' ? '/v3' : ''}`,
    WECHAT_PAY_BASE_URL: simulatorUrl,
    WECHAT_API_BASE_URL: simulatorUrl,
    CATALOGUE_FILE: `${REPO_ROOT}catalogue.example.json`,
    // Every login comes from 127.0.0.1; the per-address limit would otherwise be the benchmark.
    LOGIN_RATE_PER_MINUTE: '100000',
    // The reconciler runs, as in production, but finds nothing old enough during a run.
    RECONCILE_AFTER_SECONDS: '3600',
    // The page cache is the service's largest tunable memory: `SQLITE_CACHE_MB=16 npm run bench`
    // measures another size.
    ...(process.env.SQLITE_CACHE_MB ? { SQLITE_CACHE_MB: process.env.SQLITE_CACHE_MB } : {}),
    // Likewise PostgreSQL's pool: `DATABASE_POOL_SIZE=4 npm run bench -- --db postgres`.
    ...(process.env.DATABASE_POOL_SIZE ? { DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE } : {}),
    // glibc's malloc arenas, for measuring the service's native memory: `MALLOC_ARENA_MAX=2 npm run bench`.
    ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
    // A diagnostic preload for the service only, such as bench/sqlite-cost.cjs.
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
      : {}),
  };
}

/** What the bench records from inside the service process, through a preloaded module. */
export interface ServiceWatch {
  /** The SQL the service prepares, written here at exit (bench/sql-capture.mjs). */
  sqlCapture?: string;
  /** Memory and active resources, sampled into this file (bench/soak-probe.mjs). */
  probeFile?: string;
  /** More environment for the service (the webhooks scenario's WEBHOOK_URL and WEBHOOK_SECRET). */
  env?: Record<string, string>;
}

export function startService(
  databaseUrl: string,
  simulatorUrl: string,
  profileDir?: string,
  version: 'v2' | 'v3' = 'v2',
  watch: ServiceWatch = {},
): Promise<ServerProcess> {
  const preload = [
    ...(watch.sqlCapture ? ['--import', SQL_CAPTURE] : []),
    ...(watch.probeFile ? ['--import', SOAK_PROBE] : []),
  ];
  const env = {
    ...serviceEnv(databaseUrl, simulatorUrl, version),
    ...(watch.sqlCapture ? { BENCH_SQL_CAPTURE: watch.sqlCapture } : {}),
    ...(watch.probeFile ? { BENCH_PROBE_FILE: watch.probeFile } : {}),
    ...watch.env,
  };
  return startListening(
    [
      ...serviceNodeArgs(process.env.BENCH_SERVICE_NODE_ARGS),
      ...cpuProf(profileDir),
      ...preload,
      CLI,
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    env,
    /listening on (http:\/\/\S+)/,
    process.env.BENCH_SERVICE_STDOUT || undefined,
  );
}

/**
 * BENCH_SERVICE_NODE_ARGS: node flags for the service process that NODE_OPTIONS refuses, such as
 * `--trace-gc --trace-gc-nvp` or `--cpu-prof-interval 250`, separated by spaces. Their output to
 * standard output is kept with BENCH_SERVICE_STDOUT=<file>.
 *
 * @example
 * serviceNodeArgs(' --trace-gc  --trace-gc-nvp ') // ['--trace-gc', '--trace-gc-nvp']
 */
export function serviceNodeArgs(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((a) => a !== '');
}

export function startSimulator(): Promise<ServerProcess> {
  const c = BENCH_CREDENTIALS;
  return startListening(
    [CLI, 'simulate', '--port', '0', '--host', '127.0.0.1'],
    {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      WECHAT_APPID: c.appid,
      WECHAT_SECRET: c.secret,
      WECHAT_MCHID: c.mchId,
      WECHAT_MCH_KEY: c.key,
    },
    /http\s+(http:\/\/\S+)/,
  );
}

/** A webhook receiver answering 200 at once; on stop it writes what it received to `outFile`. */
export function startWebhookReceiver(outFile: string): Promise<ServerProcess> {
  const env = { PATH: process.env.PATH, NODE_ENV: 'production', BENCH_RECEIVER_OUT: outFile };
  return startListening([WEBHOOK_RECEIVER], env, /(http:\/\/\S+)/);
}

export function startBaseline(): Promise<ServerProcess> {
  return startListening([BASELINE], { PATH: process.env.PATH, NODE_ENV: 'production' }, /(http:\/\/\S+)/);
}

/** The service's notification route with a verify-only handler: the ceiling without storage. */
export function startNotifyWithoutDatabase(profileDir?: string): Promise<ServerProcess> {
  const env = { PATH: process.env.PATH, NODE_ENV: 'production', WECHAT_MCH_KEY: BENCH_CREDENTIALS.key };
  return startListening([...cpuProf(profileDir), NOTIFY_NODB], env, /(http:\/\/\S+)/);
}

/** One of the anchors (bench/anchors/), notified in the same SQLite file the service would use. */
export function startAnchor(
  name: AnchorName,
  sqliteFile: string,
  profileDir?: string,
): Promise<ServerProcess> {
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    WECHAT_MCH_KEY: BENCH_CREDENTIALS.key,
    ANCHOR_DATABASE: sqliteFile,
  };
  return startListening([...cpuProf(profileDir), ANCHOR_SCRIPTS[name]], env, /(http:\/\/\S+)/);
}

function cpuProf(profileDir: string | undefined): string[] {
  return profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
}

/** Starts `node ARGS` and resolves once it prints a line matching `pattern` (its URL in group 1). */
export function startListening(
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
  /** Where the process's standard output goes once it listens; by default it is read and dropped. */
  stdoutFile?: string,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('did not start listening in time')), START_TIMEOUT_MS);
    function fail(err: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: ${err.message}\n${output.slice(-2000)}`));
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      // Keep draining both pipes: a child blocked on a full pipe would stall the benchmark.
      if (stdoutFile) child.stdout?.pipe(createWriteStream(stdoutFile, { flags: 'a' }));
      else child.stdout?.resume();
      resolve(handle(child, match[1].replace(/\/$/, ''), exited, () => output));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      // BENCH_CHILD_STDERR=1 shows what the servers write to stderr (warnings, debugging aids).
      if (process.env.BENCH_CHILD_STDERR === '1') process.stderr.write(chunk);
      output += chunk.toString();
      if (output.length > 100_000) output = output.slice(-20_000);
    });
    child.once('error', fail);
    void exited.then((code) => fail(new Error(`exited with code ${code} before listening`)));
  });
}

function handle(
  child: ChildProcess,
  url: string,
  exited: Promise<number | null>,
  output: () => string,
): ServerProcess {
  const pid = child.pid as number;
  return {
    url,
    pid,
    peakRss: () => readPeakRss(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0 && code !== null) {
        process.stderr.write(`process ${pid} exited with ${code}:\n${output().slice(-2000)}\n`);
      }
    },
  };
}

function readPeakRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** utime + stime from /proc/PID/stat, in clock ticks (100 per second on Linux). */
function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
