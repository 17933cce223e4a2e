/**
 * The real thing for the commands that talk to a running service: `weapp-pay start` (the demo:
 * service and simulator in one process), or `weapp-pay serve` and `weapp-pay simulate` as two,
 * each a child process of the bundled CLI, configured only by its environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../service/harness.js';
import { BARE_ENV, cliBundle, REPO } from './cli-harness.js';

export { freePort };

export interface Child {
  pid: number;
  /** The lines it printed that matched, by name. */
  found: Record<string, string>;
  output(): string;
  /** Stops reading its standard output, as a log reader that has stalled would. */
  pauseOutput(): void;
  /** Reads its standard output again. */
  resumeOutput(): void;
  stop(): Promise<void>;
}

/** Starts `weapp-pay ARGS` and waits until every pattern has matched a line of its output. */
export async function startChild(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; wait: Record<string, RegExp> },
): Promise<Child> {
  const entry = await cliBundle();
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: options.cwd,
    env: { ...BARE_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const found: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('did not start in 60 s')), 60_000);
    function fail(err: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`weapp-pay ${args.join(' ')}: ${err.message}\n${text.slice(-3000)}`));
    }
    const collect = (chunk: Buffer) => {
      text += chunk.toString();
      for (const [name, pattern] of Object.entries(options.wait)) {
        const match = pattern.exec(text);
        if (match?.[1]) found[name] = match[1];
      }
      if (Object.keys(options.wait).every((n) => found[n] !== undefined)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code) => fail(new Error(`exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid as number,
    found,
    output: () => text,
    pauseOutput: () => child.stdout?.pause(),
    resumeOutput: () => child.stdout?.resume(),
    stop: () => stop(child, exited),
  };
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  child.kill('SIGTERM');
  await exited;
  clearTimeout(timer);
}

export interface Demo {
  child: Child;
  serviceUrl: string;
  simulatorUrl: string;
  adminToken: string;
}

/** `weapp-pay start` in `cwd` on free ports: the offline demo (v3 unless `api` says v2). */
export async function startDemoChild(cwd: string, api: 'v2' | 'v3' = 'v3'): Promise<Demo> {
  const child = await startChild(['start', '--port', '0', '--simulator-port', '0', '--api', api], {
    cwd,
    env: { DATABASE_URL: `sqlite:${cwd}/demo.db` },
    wait: {
      service: /Service API +(http:\/\/\S+)\/api/,
      simulator: /WeChat simulator (http:\/\/\S+)/,
      token: /Admin token +(\S+)/,
    },
  });
  const { service = '', simulator = '', token = '' } = child.found;
  return { child, serviceUrl: service, simulatorUrl: simulator, adminToken: token };
}

/** The simulator's merchant, as `serve` reads it (API v2). */
export const SIM_WECHAT_ENV = {
  WECHAT_APPID: 'wx1234567890abcdef',
  WECHAT_SECRET: 'test-app-secret-0123456789abcdef',
  WECHAT_MCHID: '1900000109',
  WECHAT_MCH_KEY: 'SimulatorTestKey0123456789abcdef',
};
export const SERVICE_ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789';

/**
 * `weapp-pay serve` alone on a free port: the simulator's v2 merchant, a SQLite file in `cwd`,
 * and WeChat's real hosts (never contacted by the callers) unless `env` names others.
 */
export async function startServeAlone(
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = await startChild(['serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd,
    env: {
      ...SIM_WECHAT_ENV,
      WECHAT_NOTIFY_URL: 'https://shop.example.com/payment/wxnotify',
      DATABASE_URL: `sqlite:${join(cwd, 'service.db')}`,
      CATALOGUE_FILE: join(REPO, 'catalogue.example.json'),
      ...env,
    },
    wait: { url: /weapp-pay service listening on (http:\/\/\S+)/ },
  });
  return { child, port };
}

/**
 * `weapp-pay simulate` (at 60× time) and `weapp-pay serve` against it on `databaseUrl`, on a port
 * that stays the same across `startService()` calls (a restart). `env` is what the CLI commands
 * need to reach the service.
 */
export async function startServeAndSimulate(
  cwd: string,
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ sim: Child; startService: () => Promise<Child>; env: Record<string, string> }> {
  const sim = await startChild(['simulate', '--port', '0', '--time-scale', '60'], {
    cwd,
    env: SIM_WECHAT_ENV,
    wait: { url: /^ {2}http {3}(http:\/\/\S+)$/m },
  });
  const port = await freePort();
  const startService = () =>
    startChild(['serve', '--port', String(port), '--host', '127.0.0.1'], {
      cwd,
      env: {
        ...SIM_WECHAT_ENV,
        WECHAT_NOTIFY_URL: `http://127.0.0.1:${port}/payment/wxnotify`,
        WECHAT_PAY_BASE_URL: sim.found.url as string,
        WECHAT_API_BASE_URL: sim.found.url as string,
        ADMIN_TOKEN: SERVICE_ADMIN_TOKEN,
        DATABASE_URL: databaseUrl,
        CATALOGUE_FILE: join(REPO, 'catalogue.example.json'),
        ...extraEnv,
      },
      wait: { url: /weapp-pay service listening on (http:\/\/\S+)/ },
    });
  return {
    sim,
    startService,
    env: { WEAPP_PAY_URL: `http://127.0.0.1:${port}`, ADMIN_TOKEN: SERVICE_ADMIN_TOKEN },
  };
}
