/**
 * The real thing for the commands that talk to a running service: `weapp-pay start` (the demo:
 * service and simulator in one process), or `weapp-pay serve` and `weapp-pay simulate` as two,
 * each a child process of the bundled CLI, configured only by its environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BARE_ENV, cliBundle } from './cli-harness.js';

export { freePort } from '../service/harness.js';

export interface Child {
  pid: number;
  /** The lines it printed that matched, by name. */
  found: Record<string, string>;
  output(): string;
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
  return { pid: child.pid as number, found, output: () => text, stop: () => stop(child, exited) };
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
