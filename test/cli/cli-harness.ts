import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../../src/cli/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
const ENTRY = join(REPO, 'test/cli/run-cli.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a child starts from: PATH only, so the developer's own settings never leak in. */
export const BARE_ENV = { PATH: process.env.PATH ?? '' };

/** Runs `weapp-pay ARGS` as a child process, from the sources, in `cwd`. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, ENTRY, ...args],
      { cwd: options.cwd, env: { ...BARE_ENV, ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI in this process with captured output; long-running commands stop when `stop` resolves. */
export async function runMain(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stop?: Promise<unknown> },
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, options.env ?? {}, {
    cwd: options.cwd,
    io: {
      out: (s) => {
        stdout += s;
      },
      err: (s) => {
        stderr += s;
      },
    },
    untilStopped: () => options.stop ?? Promise.resolve(),
  });
  return { code, stdout, stderr };
}

export function tempDir(cleanups: (() => void)[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export { REPO };
