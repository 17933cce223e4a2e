/**
 * `weapp-pay listen` and `weapp-pay events` against `weapp-pay serve` and `weapp-pay simulate` as
 * child processes, on SQLite and on PostgreSQL: payments made with `weapp-pay trigger` show up in
 * the listener, are forwarded signed to a local receiver, survive a service restart, and resend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/dialects.js';
import { runCli, tempDir } from './cli-harness.js';
import { type Follower, startFollower, startReceiver } from './listen-children.js';
import { type Child, startServeAndSimulate } from './service-children.js';

const SERVICE_WEBHOOK_SECRET = 'whsec_the_service_endpoint_secret_0123';

for (const database of testDatabases()) {
  describe(`listen and events against serve and simulate, on ${database.name}`, { timeout: 120_000 }, () => {
    const cleanups: (() => void | Promise<void>)[] = [];
    let dir: string;
    let env: Record<string, string>;
    let startService: () => Promise<Child>;
    let service: Child;
    /** The service's own WEBHOOK_URL endpoint, verifying with its WEBHOOK_SECRET. */
    let endpoint: Awaited<ReturnType<typeof startReceiver>>;

    beforeAll(async () => {
      dir = tempDir(cleanups);
      const db = await database.openMigrated();
      cleanups.push(() => db.close());
      endpoint = await startReceiver(() => SERVICE_WEBHOOK_SECRET);
      cleanups.push(endpoint.close);
      const started = await startServeAndSimulate(dir, db.url, {
        WEBHOOK_URL: endpoint.url,
        WEBHOOK_SECRET: SERVICE_WEBHOOK_SECRET,
      });
      cleanups.push(started.sim.stop);
      startService = started.startService;
      service = await startService();
      env = started.env;
    }, 120_000);
    afterAll(async () => {
      await service?.stop();
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    const cli = (args: string[]) => runCli(args, { cwd: dir, env });
    async function listen(args: string[]): Promise<Follower> {
      const follower = await startFollower(['listen', ...args], dir, env);
      cleanups.push(() => follower.kill());
      await follower.waitFor(/^Ready! Listening for events from /m, 'err');
      return follower;
    }
    async function trigger(event: string): Promise<string> {
      const run = await cli(['trigger', event, '--json']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as { orderId: string }).orderId;
    }

    it('listen prints a payment.succeeded, on one line, as the payment happens; SIGTERM stops it', async () => {
      const follower = await listen([]);
      const orderId = await trigger('payment.succeeded');
      const [line] = await follower.waitFor(new RegExp(`^.*payment ${orderId}.*$`, 'm'));
      expect(line).toMatch(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d {2}payment\\.succeeded +evt_[0-9a-f]{24} {2}payment ${orderId} ¥0\\.01$`,
        ),
      );
      expect(await follower.stop()).toBe(0);
    });

    it('--forward-to posts each event, signed with the session secret it printed, and shows the status and latency', async () => {
      let secret: string | undefined;
      const receiver = await startReceiver(() => secret);
      cleanups.push(receiver.close);
      const follower = await startFollower(['listen', '--forward-to', receiver.url], dir, env);
      cleanups.push(() => follower.kill());
      secret = (
        await follower.waitFor(
          /Your webhook signing secret is (whsec_[A-Za-z0-9_-]{32}) \(valid for this session\)/,
          'err',
        )
      )[1];
      const orderId = await trigger('payment.succeeded');
      const [line] = await follower.waitFor(new RegExp(`^.*payment ${orderId}.*$`, 'm'));
      expect(line).toMatch(/ → 200 in \d+ ms$/);
      const forwarded = receiver.received.find((r) => r.body.includes(orderId));
      expect(forwarded?.verified).toBe(true);
      // The same bytes the service's own endpoint received for that event.
      const delivered = endpoint.received.find((r) => r.body === forwarded?.body);
      expect(delivered?.verified).toBe(true);
      expect(JSON.parse(forwarded?.body ?? '{}')).toMatchObject({
        type: 'payment.succeeded',
        data: { object: { object: 'payment', id: orderId, status: 'PAID' } },
      });
      expect(await follower.stop()).toBe(0);
    });

    it('--events keeps only the types asked for; --json prints the bodies', async () => {
      const follower = await listen(['--events', 'payment.closed', '--json']);
      await trigger('payment.succeeded');
      const orderId = await trigger('payment.closed');
      await follower.waitFor(new RegExp(`"id":"${orderId}"`));
      // The payment.succeeded that came first in the log was left out.
      await new Promise((r) => setTimeout(r, 500));
      const bodies = follower
        .out()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      expect(bodies.map((b) => b.type)).toEqual(['payment.closed']);
      expect(await follower.stop()).toBe(0);
    });

    it('rides out a service restart, carrying on from the last event received', async () => {
      const follower = await listen([]);
      const before = await trigger('payment.succeeded');
      await follower.waitFor(new RegExp(`payment ${before}`));
      const stopping = Date.now();
      await service.stop();
      // The open stream does not hold the shutdown up.
      expect(Date.now() - stopping).toBeLessThan(8000);
      await follower.waitFor(/lost the service at .*; reconnecting…/, 'err');
      service = await startService();
      await follower.waitFor(/reconnected; carrying on from the last event received/, 'err');
      const after = await trigger('payment.succeeded');
      await follower.waitFor(new RegExp(`payment ${after}`));
      expect(follower.out().match(new RegExp(`payment ${before}`, 'g'))).toHaveLength(1);
      expect(await follower.stop()).toBe(0);
    });

    it('events list shows the log; events resend schedules an event again and names an unknown id', async () => {
      const orderId = await trigger('payment.succeeded');
      const list = await cli(['events', 'list', '--limit', '500', '--json']);
      expect(list.code, list.stderr).toBe(0);
      const page = JSON.parse(list.stdout) as {
        events: { id: string; type: string; data: { object: { id: string } } }[];
      };
      const event = page.events.find((e) => e.data.object.id === orderId && e.type === 'payment.succeeded');
      expect(event).toBeDefined();
      const lines = await cli(['events', 'list', '--limit', '500']);
      expect(lines.stdout).toMatch(
        new RegExp(
          `^ +\\d+  \\d\\d:\\d\\d:\\d\\d {2}payment\\.succeeded +${event?.id} {2}payment ${orderId}`,
          'm',
        ),
      );

      const deliveredBefore = endpoint.received.filter((r) => r.body.includes(event?.id as string)).length;
      const resend = await cli(['events', 'resend', event?.id as string]);
      expect(resend.code, resend.stderr).toBe(0);
      expect(resend.stdout).toMatch(
        new RegExp(`^${event?.id} scheduled again, now:\\n {2}to we_\\S+ {2}\\(delivery \\d+\\)\\n$`),
      );
      await expect
        .poll(
          () => endpoint.received.filter((r) => r.body.includes(event?.id as string) && r.verified).length,
          {
            timeout: 20_000,
          },
        )
        .toBe(deliveredBefore + 1);

      const missing = await cli(['events', 'resend', 'evt_000000000000000000000000']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(
        `weapp-pay events resend: no event evt_000000000000000000000000 on the service at ${env.WEAPP_PAY_URL} (weapp-pay events list shows them)\n`,
      );
      const noEndpoint = await cli(['events', 'resend', event?.id as string, '--endpoint', 'we_nope']);
      expect(noEndpoint.code).toBe(1);
      expect(noEndpoint.stderr).toContain('no webhook endpoint we_nope');
    });

    it('refuses unknown flags and event types with a suggestion, and a wrong admin token', async () => {
      const flag = await cli(['listen', '--forward', 'http://127.0.0.1:1/']);
      expect(flag.code).toBe(1);
      expect(flag.stderr).toContain('(Did you mean --forward-to?)');
      const type = await cli(['listen', '--events', 'payment.succeded']);
      expect(type.code).toBe(1);
      expect(type.stderr).toContain(
        'unknown event type "payment.succeded" (did you mean payment.succeeded?)',
      );
      const resendFlag = await cli(['events', 'resend', 'evt_x', '--endpiont', 'we_1']);
      expect(resendFlag.code).toBe(1);
      expect(resendFlag.stderr).toContain('(Did you mean --endpoint?)');
      const url = await cli(['listen', '--forward-to', 'localhost:4242']);
      expect(url.code).toBe(1);
      expect(url.stderr).toContain('--forward-to must be an http(s) URL');
      const token = await runCli(['listen'], {
        cwd: dir,
        env: { ...env, ADMIN_TOKEN: 'wrong-token-0123456789abcdef0123' },
      });
      expect(token.code).toBe(1);
      expect(token.stderr).toContain('refused the admin token');
    });
  });
}

describe('help for listen and events', () => {
  it('lists the options, the event types, the environment and examples', async () => {
    const dir = tempDir([]);
    const listen = await runCli(['listen', '--help'], { cwd: dir });
    expect(listen.stdout).toContain('--forward-to <url>');
    expect(listen.stdout).toContain('Event types: payment.succeeded, payment.closed');
    expect(listen.stdout).toContain('WEAPP_PAY_URL');
    expect(listen.stdout).toContain('$ weapp-pay listen --forward-to http://localhost:4242/webhooks');
    const events = await runCli(['events', '--help'], { cwd: dir });
    expect(events.stdout).toMatch(/\n {2}list \[options\]/);
    expect(events.stdout).toMatch(/\n {2}resend \[options\] <id>/);
  });
});
