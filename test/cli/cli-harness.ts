import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The CLI bundled once per test process with esbuild (packages stay external, so they load from
 * node_modules as in production). A child then starts in well under a second, where transpiling
 * the sources with tsx in every child took long enough to time out on a busy machine. The bundle
 * sits two folders below the repository, as src/demo/start-demo.ts does, so its paths to web/ and
 * the catalogue resolve the same way.
 */
let bundled: Promise<string> | undefined;
export function cliBundle(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = join(REPO, 'node_modules/.cache', `weapp-pay-cli-test-${process.pid}.mjs`);
    await build({
      entryPoints: [join(REPO, 'test/cli/run-cli.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'silent',
    });
    process.once('exit', () => rmSync(outfile, { force: true }));
    return outfile;
  })();
  return bundled;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a child starts from: PATH only, so the developer's own settings never leak in. */
export const BARE_ENV = { PATH: process.env.PATH ?? '' };

/** Runs `weapp-pay ARGS` as a child process, from the sources, in `cwd`. */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  const entry = await cliBundle();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { cwd: options.cwd, env: { ...BARE_ENV, ...options.env }, timeout: 80_000 },
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
