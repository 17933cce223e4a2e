/**
 * For the `weapp-pay listen` tests: the long-running CLI as a child whose output can be awaited,
 * and a webhook receiver on node:http that checks the Weapp-Pay-Signature header with node:crypto
 * alone (no code shared with the service's signing), as a shop's backend would.
 */
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BARE_ENV, cliBundle } from './cli-harness.js';

export interface Follower {
  out(): string;
  err(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr with `on: 'err'`). */
  waitFor(pattern: RegExp, on?: 'out' | 'err'): Promise<RegExpMatchArray>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
  kill(): void;
}

export async function startFollower(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Follower> {
  const child = spawn(process.execPath, [await cliBundle(), ...args], {
    cwd,
    env: { ...BARE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    out: () => out,
    err: () => err,
    async waitFor(pattern, on = 'out') {
      const until = Date.now() + 40_000;
      for (;;) {
        const match = (on === 'out' ? out : err).match(pattern);
        if (match) return match;
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(
            `weapp-pay ${args.join(' ')} never printed ${pattern}\nstdout:\n${out}\nstderr:\n${err}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface Received {
  body: string;
  signature: string | undefined;
  /** The header checked with `secret`: t within 5 minutes and one v1 equal to HMAC-SHA256(t.body). */
  verified: boolean;
}

/** Answers 200 to a correctly signed POST, 400 otherwise; keeps everything it received. */
export async function startReceiver(secret: () => string | undefined) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['weapp-pay-signature'] as string | undefined;
      const verified = verify(body, signature, secret());
      received.push({ body, signature, verified });
      res.writeHead(verified ? 200 : 400).end(verified ? 'ok' : 'bad signature');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verify(body: string, header: string | undefined, secret: string | undefined): boolean {
  if (header === undefined || secret === undefined) return false;
  const parts = header.split(',').map((p) => p.split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (t === undefined || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([k]) => k === 'v1')
    .some(
      ([, v]) => /^[0-9a-f]{64}$/.test(v ?? '') && timingSafeEqual(expected, Buffer.from(v as string, 'hex')),
    );
}
