/**
 * One instance of the real service as a child process: the built CLI,
 * `node bin/weapp-pay.js serve --port 0`, configured only by its environment, exactly as it runs
 * in production. The crash runs SIGKILL it: no shutdown hook, no flush, no goodbye.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/weapp-pay.js', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./instance-preload.mjs', import.meta.url));
const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));
const LISTENING = /weapp-pay service listening on (http:\/\/\S+)/;

export interface ServiceProcess {
  url: string;
  pid: number;
  /** SIGKILL, then wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful stop), then wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** The last lines the process wrote, for a failure message. */
  output(): string;
  /** Moves the instance's clock to `offsetMs` ahead of real time; resolves once it has. */
  setClockOffset(offsetMs: number): Promise<void>;
}

export async function startServiceProcess(
  env: Record<string, string>,
  options: { clockOffsetMs?: number } = {},
): Promise<ServiceProcess> {
  if (!existsSync(BUILT_CLI)) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test and npm run crash do).');
  }
  const child = spawn(
    process.execPath,
    ['--import', PRELOAD, CLI, 'serve', '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        CRASH_CLOCK_OFFSET_MS: String(options.clockOffsetMs ?? 0),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in 60 s:\n${tail(lines)}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      for (const line of String(chunk).split('\n')) {
        if (line === '') continue;
        lines.push(line);
        if (lines.length > 200) lines.shift();
        const match = LISTENING.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${signal ?? code}) before listening:\n${tail(lines)}`));
    });
  });
  return {
    url,
    pid: child.pid as number,
    kill: () => signal(child, 'SIGKILL', exited),
    async stop() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await signal(child, 'SIGTERM', exited);
      clearTimeout(timer);
    },
    output: () => tail(lines),
    setClockOffset(offsetMs) {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          child.off('message', onMessage);
          child.off('exit', done);
          resolve();
        };
        const onMessage = (m: { clockOffsetMs?: number }) => {
          if (m?.clockOffsetMs === offsetMs) done();
        };
        child.on('message', onMessage);
        child.once('exit', done);
        child.send({ clockOffsetMs: offsetMs }, (err) => {
          if (err) done();
        });
      });
    },
  };
}

async function signal(child: ChildProcess, name: NodeJS.Signals, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(name);
  await exited;
}

function tail(lines: string[]): string {
  return lines.slice(-20).join('\n');
}
