/**
 * Webhooks from a running service: orders paid through the simulator over HTTP, events POSTed
 * to a receiver that shares no code with ours (test/webhooks/receiver.ts checks the signature
 * by hand), and the admin API that manages endpoints and the event log. Both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { CREDENTIALS, type Harness, startHarness } from '../service/harness.js';
import { payCoffee } from './pay-order.js';
import { startReceiver, type TestReceiver } from './receiver.js';

const admin = { authorization: `Bearer ${CREDENTIALS.adminToken}` };
const ENV_SECRET = 'whsec_env_0123456789abcdef0123456789';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const database of testDatabases()) {
  describe(`webhooks from the service on ${database.name}`, () => {
    let db: TestDbHandle;
    let h: Harness;
    let receiver: TestReceiver;

    beforeAll(async () => {
      receiver = await startReceiver();
      receiver.secret = ENV_SECRET;
      db = await database.openMigrated();
      h = await startHarness(db, { env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: ENV_SECRET } });
      receiver.now = () => h.clock.now();
      h.service.webhooks.start();
    });
    afterAll(async () => {
      await h?.close();
      await db?.close();
      await receiver?.close();
    });

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await h.api(method, path, undefined, body, admin);
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : null };
    };

    it('POSTs payment.succeeded, signed and verified by hand, promptly after the notification commits', async () => {
      const before = receiver.received.length;
      const order = await payCoffee(h);
      // payCoffee returns once the notification has committed the payment.
      const committed = performance.now();
      await until(() => receiver.received.length > before);
      const delay = performance.now() - committed;
      const got = receiver.received.at(-1)!;
      expect(got.verified).toBe(true);
      const event = JSON.parse(got.body);
      expect(event).toMatchObject({
        id: expect.stringMatching(/^evt_/),
        type: 'payment.succeeded',
        livemode: false,
        data: {
          object: {
            object: 'payment',
            id: order.id,
            outTradeNo: order.outTradeNo,
            status: 'PAID',
            amount: 1,
          },
        },
      });
      // Woken by the commit, not by the 5-second interval (deliverer.test.ts proves the wake-up
      // with an interval of an hour; this bound leaves room for a loaded machine).
      expect(delay).toBeLessThan(2500);
    });

    it('manages endpoints: the secret is shown once, bad input changes nothing, the env endpoint is guarded', async () => {
      const created = await call('POST', '/admin/webhooks', {
        url: 'https://shop.example/hooks',
        eventTypes: ['refund.failed', 'payment.succeeded'],
        description: 'shop',
      });
      expect(created.status).toBe(201);
      const { endpoint, secret } = created.json;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
      expect(endpoint).toMatchObject({
        url: 'https://shop.example/hooks',
        status: 'enabled',
        source: 'admin',
      });

      const listed = await call('GET', '/admin/webhooks');
      expect(listed.json.endpoints.map((e: { id: string }) => e.id).sort()).toEqual(
        [endpoint.id, 'we_env'].sort(),
      );
      expect(listed.text).not.toContain(secret);
      expect(listed.text).not.toContain(ENV_SECRET);

      for (const bad of [
        { url: 'ftp://shop.example/x' },
        { url: 'not a url' },
        { url: 'https://user:pw@shop.example/x' },
        { url: 'https://shop.example/x', eventTypes: ['payment.paid'] },
        { url: 'https://shop.example/x', eventTypes: [] },
      ]) {
        const res = await call('POST', '/admin/webhooks', bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.json.code).toBe('VALIDATION_ERROR');
      }
      expect((await call('GET', '/admin/webhooks')).json.endpoints).toHaveLength(2);

      const rotated = await call('POST', `/admin/webhooks/${endpoint.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.json.secret).not.toBe(secret);
      expect(Date.parse(rotated.json.endpoint.previousSecretExpiresAt) - h.clock.now()).toBe(
        24 * 3600 * 1000,
      );

      expect((await call('POST', `/admin/webhooks/${endpoint.id}/disable`)).json.endpoint.status).toBe(
        'disabled',
      );
      expect((await call('POST', `/admin/webhooks/${endpoint.id}/enable`)).json.endpoint.status).toBe(
        'enabled',
      );
      const shown = await call('GET', `/admin/webhooks/${endpoint.id}`);
      expect(shown.json).toMatchObject({ endpoint: { id: endpoint.id }, deliveries: [] });
      expect((await call('DELETE', `/admin/webhooks/${endpoint.id}`)).json.endpoint.status).toBe('deleted');
      expect((await call('GET', `/admin/webhooks/${endpoint.id}`)).json.code).toBe(
        'WEBHOOK_ENDPOINT_NOT_FOUND',
      );
      expect((await call('POST', `/admin/webhooks/${endpoint.id}/enable`)).status).toBe(404);

      expect((await call('POST', '/admin/webhooks/we_env/rotate-secret')).json.code).toBe(
        'WEBHOOK_ENDPOINT_FROM_ENV',
      );
      expect((await call('DELETE', '/admin/webhooks/we_env')).status).toBe(409);
      expect((await call('POST', '/admin/webhooks/we_nope/disable')).status).toBe(404);
    });

    it('pages the event log for catch-up, shows an event with its attempts, and resends it with the same id', async () => {
      await payCoffee(h);
      await payCoffee(h);
      await until(() => receiver.applied.length >= 3);
      const first = await call('GET', '/admin/events?after=0&limit=2');
      expect(first.status).toBe(200);
      expect(first.json.events).toHaveLength(2);
      expect(first.json.hasMore).toBe(true);
      const rest = await call('GET', `/admin/events?after=${first.json.next}&limit=100`);
      const all = [...first.json.events, ...rest.json.events];
      expect(all.map((e: { sequence: number }) => e.sequence)).toEqual(
        all.map((_: unknown, i: number) => i + 1),
      );
      expect(rest.json.hasMore).toBe(false);
      const empty = await call('GET', `/admin/events?after=${rest.json.next}`);
      expect(empty.json).toEqual({ events: [], hasMore: false, next: rest.json.next });
      expect((await call('GET', '/admin/events?limit=0')).json.code).toBe('VALIDATION_ERROR');
      expect((await call('GET', '/admin/events?after=-1')).status).toBe(400);

      const target = all.at(-1) as { id: string };
      const shown = await call('GET', `/admin/events/${target.id}`);
      expect(shown.json.deliveries).toMatchObject([
        {
          endpointId: 'we_env',
          status: 'succeeded',
          attempts: 1,
          recentAttempts: [{ attempt: 1, statusCode: 200, ok: true }],
        },
      ]);

      const copies = () => receiver.received.filter((r) => r.eventId === target.id).length;
      const resent = await call('POST', `/admin/events/${target.id}/resend`);
      expect(resent.status).toBe(202);
      expect(resent.json.deliveries).toEqual([{ endpointId: 'we_env', deliveryId: expect.any(Number) }]);
      await until(() => copies() === 2);
      expect(receiver.applied.filter((id) => id === target.id)).toHaveLength(1);
      expect((await call('POST', '/admin/events/evt_nope/resend')).json.code).toBe('EVENT_NOT_FOUND');
      expect((await call('GET', '/admin/events/evt_nope')).status).toBe(404);
      expect(
        (await call('POST', `/admin/events/${target.id}/resend`, { endpointId: 'we_nope' })).status,
      ).toBe(404);
    });

    it('retries a receiver that answers 500, and records each attempt', async () => {
      receiver.answer = (_r, count) => (count === 1 ? { status: 500, body: 'busy' } : { status: 200 });
      try {
        const before = receiver.received.length;
        await payCoffee(h);
        await until(() => receiver.received.length === before + 1);
        const eventId = receiver.received.at(-1)!.eventId;
        // The 500 is recorded (and the retry scheduled from the clock) before time moves on.
        const recorded = async () =>
          (await call('GET', `/admin/events/${eventId}`)).json.deliveries[0]?.attempts === 1;
        for (let i = 0; i < 200 && !(await recorded()); i += 1) await new Promise((r) => setTimeout(r, 10));
        await h.clock.advance(15_000);
        h.service.webhooks.wake();
        const recorded2 = async () =>
          (await call('GET', `/admin/events/${eventId}`)).json.deliveries[0]?.status === 'succeeded';
        await until(() => receiver.applied.includes(eventId));
        for (let i = 0; i < 200 && !(await recorded2()); i += 1) await new Promise((r) => setTimeout(r, 10));
        const shown = await call('GET', `/admin/events/${eventId}`);
        expect(
          shown.json.deliveries[0].recentAttempts.map((a: { statusCode: number; responseBody: string }) => [
            a.statusCode,
            a.responseBody,
          ]),
        ).toEqual([
          [200, 'ok'],
          [500, 'busy'],
        ]);
      } finally {
        receiver.answer = () => ({ status: 200 });
      }
    });
  });
}
