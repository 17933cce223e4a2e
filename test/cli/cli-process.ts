/**
 * A long-running `weapp-pay` command (`simulate`, `serve`) as a child process, from the same
 * bundle runCli uses, configured only by its arguments and environment. It resolves once the
 * process printed a line matching `ready`, with that match; `stop()` sends SIGTERM to this child
 * alone (SIGKILL after 5 s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BARE_ENV, cliBundle } from './cli-harness.js';

export interface CliProcess {
  match: RegExpExecArray;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export async function startCliProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string>; ready: RegExp },
): Promise<CliProcess> {
  const entry = await cliBundle();
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: options.cwd,
    env: { ...BARE_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`weapp-pay ${args[0]} did not start in 60 s:\n${output}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      output += String(chunk);
      const found = options.ready.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`weapp-pay ${args[0]} exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
  return {
    match,
    output: () => output,
    async stop() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await stopChild(child, exited);
      clearTimeout(timer);
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}
