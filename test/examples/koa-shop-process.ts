import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../examples/koa-shop');

export interface ShopProcess {
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/**
 * Starts examples/koa-shop as a user would (`node --import tsx src/main.ts` in its folder): a
 * separate Node process, so `weapp-pay/webhooks` resolves through package.json "exports" to dist/.
 */
export async function startShop(env: Record<string, string>): Promise<ShopProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: EXAMPLE_DIR,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the shop did not start:\n${output.join('')}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(String(chunk));
      const match = /listening on (\d+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the shop exited with ${code}:\n${output.join('')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
