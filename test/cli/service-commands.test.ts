/**
 * `weapp-pay logs`, `orders show`, `orders sync` and `trigger` (API v2) against `weapp-pay serve`
 * and `weapp-pay simulate` running as two child processes, on SQLite and on PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/dialects.js';
import { BARE_ENV, cliBundle, runCli, tempDir } from './cli-harness.js';
import { type Child, SERVICE_ADMIN_TOKEN, startServeAndSimulate } from './service-children.js';

const ADMIN_TOKEN = SERVICE_ADMIN_TOKEN;

for (const database of testDatabases()) {
  describe(`the service commands against serve and simulate, on ${database.name}`, {
    timeout: 120_000,
  }, () => {
    const cleanups: (() => void)[] = [];
    const children: Child[] = [];
    let dir: string;
    let env: Record<string, string>;
    let closeDb: () => Promise<void>;
    let startService: () => Promise<Child>;
    let service: Child;

    beforeAll(async () => {
      dir = tempDir(cleanups);
      const db = await database.openMigrated();
      closeDb = () => db.close();
      const started = await startServeAndSimulate(dir, db.url);
      children.push(started.sim);
      startService = started.startService;
      service = await startService();
      env = started.env;
    }, 120_000);
    afterAll(async () => {
      await service?.stop();
      for (const c of children) await c.stop();
      await closeDb?.();
      for (const c of cleanups.splice(0)) c();
    });

    const cli = (args: string[]) => runCli(args, { cwd: dir, env });

    async function triggered(event: string): Promise<{ orderId: string; status: string }> {
      const run = await cli(['trigger', event, '--json']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      return JSON.parse(run.stdout) as { orderId: string; status: string };
    }

    it('trigger payment.succeeded and notification.duplicate over API v2 notifications', async () => {
      expect((await triggered('payment.succeeded')).status).toBe('PAID');
      expect((await triggered('notification.duplicate')).status).toBe('PAID');
    });

    it("logs: an order's requests and its notification, as lines, as JSON, and the last N", async () => {
      const { orderId } = await triggered('payment.succeeded');
      const text = await cli(['logs', '--order', orderId]);
      expect(text.code, text.stderr).toBe(0);
      const lines = text.stdout.trim().split('\n');
      expect(lines[0]).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}POST \/api\/orders 201 [\d.]+ ms {2}order [0-9a-f-]{36}$/,
      );
      expect(lines[1]).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}notification POST \/payment\/wxnotify 200 [\d.]+ ms {2}paid {2}order /,
      );
      expect(text.stdout).not.toContain(ADMIN_TOKEN);
      const json = await cli(['logs', '--order', orderId, '--json', '--level', 'debug']);
      const entries = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { orderId: string; kind: string });
      expect(entries.every((e) => e.orderId === orderId)).toBe(true);
      expect(entries.map((e) => e.kind)).toContain('notification');
      const one = await cli(['logs', '--lines', '1']);
      expect(one.stdout.trim().split('\n')).toHaveLength(1);
    });

    it('logs --level warn shows only refusals, with their error code', async () => {
      await fetch(`${env.WEAPP_PAY_URL}/api/orders/no-such-order`);
      const run = await cli(['logs', '--level', 'warn']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/WARN {2}GET \/api\/orders\/no-such-order 401 [\d.]+ ms {2}UNAUTHORIZED/);
      expect(run.stdout).not.toContain(' INFO ');
    });

    it('logs --follow prints new entries as they come, rides out a service restart, and stops on SIGTERM', async () => {
      const child = spawn(
        process.execPath,
        [await cliBundle(), 'logs', '--follow', '--lines', '0', '--interval', '0.2'],
        {
          cwd: dir,
          env: { ...BARE_ENV, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // A failed expectation must not leave the follower running after the suite.
      cleanups.push(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      const waitFor = async (what: () => boolean) => {
        const until = Date.now() + 30_000;
        while (!what() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      };
      /** Requests a new path every 300 ms until the follower prints one (it may still be starting). */
      async function requestUntilPrinted(name: string): Promise<string> {
        for (let i = 0; i < 100; i++) {
          const path = `/api/orders/${name}-${i}`;
          await fetch(`${env.WEAPP_PAY_URL}${path}`);
          await new Promise((r) => setTimeout(r, 300));
          const printed = out.match(new RegExp(`GET /api/orders/${name}-\\d+ 401`));
          if (printed) return printed[0];
        }
        throw new Error(`the follower printed nothing for ${name}:\n${out}\n${err}`);
      }
      expect(await requestUntilPrinted('followed')).toMatch(/^GET \/api\/orders\/followed-\d+ 401$/);
      expect(out).toMatch(/WARN {2}GET \/api\/orders\/followed-\d+ 401 [\d.]+ ms {2}UNAUTHORIZED/);
      // --lines 0: nothing from before it started.
      expect(out).not.toContain('no-such-order');

      // The service restarts: the follower says so once, waits, and prints what comes next.
      await service.stop();
      await waitFor(() => err.includes('still trying'));
      expect(err).toContain('no weapp-pay service answers at');
      service = await startService();
      await requestUntilPrinted('after-restart');
      expect(err).toContain('the service answers again');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    });

    it('orders show prints the order, its refunds and timeline; --json is the admin API answer', async () => {
      const { orderId } = await triggered('payment.succeeded');
      const run = await cli(['orders', 'show', orderId]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(
        `Order ${orderId}\n  status         PAID\n  amount         ¥0.01 (1 × coffee-americano)`,
      );
      expect(run.stdout).toContain('Refunds (0)');
      expect(run.stdout).toMatch(/Timeline \(\d+\)\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}created /);
      expect(run.stdout).toContain('evidence: notification');
      const json = JSON.parse((await cli(['orders', 'show', orderId, '--json'])).stdout) as {
        order: { id: string; status: string };
        timeline: unknown[];
      };
      expect(json.order).toMatchObject({ id: orderId, status: 'PAID' });
      const missing = await cli(['orders', 'show', 'no-such-order']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('404 ORDER_NOT_FOUND');
    });

    it('orders sync settles a payment whose notification was dropped, then says it is unchanged', async () => {
      const { orderId, status } = await triggered('notification.dropped');
      expect(status).toBe('PENDING');
      const run = await cli(['orders', 'sync', orderId]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`order ${orderId}: PENDING → PAID\n`);
      const again = await cli(['orders', 'sync', orderId, '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ id: orderId, before: 'PAID', after: 'PAID' });
    });

    it('refuses unknown flags and subcommands with a suggestion, and a missing order id', async () => {
      const flag = await cli(['logs', '--folow']);
      expect(flag.code).toBe(1);
      expect(flag.stderr).toContain("unknown option '--folow'");
      expect(flag.stderr).toContain('(Did you mean --follow?)');
      const sub = await cli(['orders', 'shwo', 'x']);
      expect(sub.code).toBe(1);
      expect(sub.stderr).toContain('(Did you mean show?)');
      const missing = await cli(['orders', 'sync']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("missing required argument 'id'");
      const level = await cli(['logs', '--level', 'loud']);
      expect(level.stderr).toContain('--level must be debug, info, warn or error');
    });
  });
}

describe('help for the service commands', () => {
  it('lists them, with their options, environment and examples', async () => {
    const dir = tempDir([]);
    const top = await runCli(['--help'], { cwd: dir });
    for (const name of ['trigger', 'logs', 'orders']) expect(top.stdout).toMatch(new RegExp(`\\n  ${name} `));
    const trigger = await runCli(['trigger', '--help'], { cwd: dir });
    expect(trigger.stdout).toContain('Events:\n  payment.succeeded ');
    expect(trigger.stdout).toContain('WEAPP_PAY_URL');
    expect(trigger.stdout).toContain('$ weapp-pay trigger payment.succeeded');
    const logs = await runCli(['logs', '--help'], { cwd: dir });
    expect(logs.stdout).toContain('-f, --follow');
    expect(logs.stdout).toContain('$ weapp-pay logs --follow');
    const show = await runCli(['orders', 'show', '--help'], { cwd: dir });
    expect(show.stdout).toContain('Usage: weapp-pay orders show [options] <id>');
    expect(show.stdout).toContain('ADMIN_TOKEN');
  });
});
