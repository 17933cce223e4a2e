/**
 * The deliverer against a real HTTP receiver (test/webhooks/receiver.ts, no shared code), on
 * both databases, with a manual clock so 3 days of retries run in milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createOrderStore } from '../../src/orders/order-store.js';
import { createEndpointStore } from '../../src/webhooks/endpoint-store.js';
import { fanOut } from '../../src/webhooks/fan-out.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { testDatabases } from '../db/dialects.js';
import { orderStoreFixture, T0 } from '../orders/order-store-fixture.js';
import { startReceiver, type TestReceiver } from './receiver.js';
import { testDeliverer } from './test-deliverer.js';

const DAY = 24 * 3600 * 1000;

for (const database of testDatabases()) {
  describe(`webhook deliverer on ${database.name}`, () => {
    const s = orderStoreFixture(database, 'dlv');
    const clock = createManualClock(T0);
    let receiver: TestReceiver;
    let tx = 0;
    beforeAll(async () => {
      receiver = await startReceiver();
      receiver.now = () => clock.now();
    });
    afterAll(() => receiver.close());

    const setup = () => {
      const db = s.handle.db;
      const outbox = createOutbox({ livemode: false });
      const deliverer = testDeliverer(db, clock);
      return {
        db,
        outbox,
        deliverer,
        endpoints: createEndpointStore(db),
        orders: createOrderStore(db, outbox),
      };
    };
    const pay = async (orders: ReturnType<typeof setup>['orders']) => {
      const order = await s.newOrder();
      await orders.markPaid(
        order.id,
        { transactionId: `4200DLV${database.name}${++tx}`, paidAt: T0, source: 'query' },
        clock.now(),
      );
      return order;
    };
    /** Every endpoint but `keep` disabled, so earlier tests' endpoints do not take this one's events. */
    const only = async (t: ReturnType<typeof setup>, keep: string) => {
      for (const e of await t.endpoints.list())
        if (e.id !== keep) await t.endpoints.disable(e.id, 'test', clock.now());
    };
    const attempts = (t: ReturnType<typeof setup>, eventId: string) =>
      t.db
        .selectFrom('webhook_attempts as a')
        .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .innerJoin('webhook_events as e', 'e.seq', 'd.event_seq')
        .select(['a.attempt', 'a.status_code', 'a.ok', 'a.response_body', 'a.error', 'd.status'])
        .where('e.id', '=', eventId)
        .orderBy('a.id')
        .execute();

    it('delivers a paid order signed with the endpoint secret, body byte for byte as stored', async () => {
      const t = setup();
      const { endpoint, secret } = await t.endpoints.create({ url: receiver.url }, clock.now());
      await only(t, endpoint.id);
      receiver.secret = secret;
      receiver.answer = () => ({ status: 200 });
      const order = await pay(t.orders);
      expect(await t.deliverer.runOnce()).toBe(1);
      const got = receiver.received.at(-1)!;
      const stored = await t.db
        .selectFrom('webhook_events')
        .selectAll()
        .where('order_id', '=', order.id)
        .executeTakeFirstOrThrow();
      expect(got).toMatchObject({
        eventId: stored.id,
        type: 'payment.succeeded',
        body: stored.body,
        verified: true,
      });
      expect(got.header).toMatch(new RegExp(`^t=${Math.floor(clock.now() / 1000)},v1=[0-9a-f]{64}$`));
      expect(await attempts(t, stored.id)).toEqual([
        { attempt: 1, status_code: 200, ok: 1, response_body: 'ok', error: null, status: 'succeeded' },
      ]);
      expect(await t.deliverer.runOnce()).toBe(0);
    });

    it('retries a 500 with backoff, keeping the first 1 KB of each answer, then delivers', async () => {
      const t = setup();
      const { endpoint, secret } = await t.endpoints.create({ url: receiver.url }, clock.now());
      await only(t, endpoint.id);
      receiver.secret = secret;
      receiver.answer = (_r, count) =>
        count < 3 ? { status: 500, body: 'x'.repeat(3000) } : { status: 204 };
      await pay(t.orders);
      expect(await t.deliverer.runOnce()).toBe(1);
      const eventId = receiver.received.at(-1)!.eventId;
      expect(await t.deliverer.runOnce()).toBe(0); // not due yet: 10 s (jitter at its middle)
      clock.advance(9_999);
      expect(await t.deliverer.runOnce()).toBe(0);
      clock.advance(1);
      expect(await t.deliverer.runOnce()).toBe(1);
      clock.advance(20_000);
      expect(await t.deliverer.runOnce()).toBe(1);
      const rows = await attempts(t, eventId);
      expect(rows.map((r) => [r.attempt, r.status_code, r.ok])).toEqual([
        [1, 500, 0],
        [2, 500, 0],
        [3, 204, 1],
      ]);
      expect(rows[0]!.response_body).toHaveLength(1024);
      expect(rows[0]!.error).toBe('HTTP 500');
      expect(rows.at(-1)!.status).toBe('succeeded');
    });

    it('retries a receiver that is down, and delivers once it is back', async () => {
      const t = setup();
      const down = await startReceiver();
      const port = new URL(down.url).port;
      await down.close();
      const { endpoint, secret } = await t.endpoints.create({ url: down.url }, clock.now());
      await only(t, endpoint.id);
      await pay(t.orders);
      expect(await t.deliverer.runOnce()).toBe(1);
      const [failed] = await t.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpoint.id)
        .execute();
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_status: null });
      expect(failed!.last_error).toMatch(/ECONNREFUSED/);
      const up = await startReceiver(Number(port));
      up.secret = secret;
      up.now = () => clock.now();
      try {
        clock.advance(10_000);
        expect(await t.deliverer.runOnce()).toBe(1);
        expect(up.applied).toHaveLength(1);
      } finally {
        await up.close();
      }
    });

    it('after 3 days of failures ends the delivery, disables the endpoint and raises an anomaly', async () => {
      const t = setup();
      const { endpoint, secret } = await t.endpoints.create({ url: receiver.url }, clock.now());
      await only(t, endpoint.id);
      receiver.secret = secret;
      receiver.answer = () => ({ status: 503 });
      await pay(t.orders);
      const start = clock.now();
      let sent = 0;
      // Jump to each retry as it comes due, rather than stepping through 3 days.
      for (let round = 0; round < 100; round += 1) {
        sent += await t.deliverer.runOnce();
        const row = await t.db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('endpoint_id', '=', endpoint.id)
          .executeTakeFirstOrThrow();
        if (row.status !== 'pending') break;
        expect(row.next_attempt_at).toBeGreaterThan(clock.now());
        clock.set(row.next_attempt_at);
      }
      expect(clock.now() - start).toBeGreaterThan(2 * DAY);
      expect(clock.now() - start).toBeLessThanOrEqual(3 * DAY);
      const [delivery] = await t.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpoint.id)
        .execute();
      expect(delivery!.status).toBe('failed');
      expect(sent).toBe(delivery!.attempts);
      expect(sent).toBeGreaterThanOrEqual(15);
      expect(sent).toBeLessThanOrEqual(25);
      expect((await t.endpoints.findById(endpoint.id))!).toMatchObject({
        status: 'disabled',
        disabledReason: 'every delivery failed for 3 days',
      });
      const anomaly = await t.db
        .selectFrom('anomalies')
        .selectAll()
        .where('kind', '=', 'webhook_endpoint_disabled')
        .where('ref', 'like', `${endpoint.id}@%`)
        .execute();
      expect(anomaly).toHaveLength(1);
      // A disabled endpoint gets nothing more until it is enabled again.
      receiver.answer = () => ({ status: 200 });
      await pay(t.orders);
      expect(await t.deliverer.runOnce()).toBe(0);
      await t.endpoints.enable(endpoint.id, clock.now());
      await t.deliverer.runOnce(); // the event paid while disabled was never fanned out to it
      expect(
        await t.db
          .selectFrom('webhook_deliveries')
          .select('status')
          .where('endpoint_id', '=', endpoint.id)
          .execute(),
      ).toEqual([{ status: 'failed' }]);
    });

    it('signs with the old and the new secret for 24 h after a rotation', async () => {
      const t = setup();
      const { endpoint, secret: old } = await t.endpoints.create({ url: receiver.url }, clock.now());
      await only(t, endpoint.id);
      const rotated = await t.endpoints.rotateSecret(endpoint.id, clock.now());
      receiver.secret = old;
      receiver.answer = () => ({ status: 200 });
      await pay(t.orders);
      await t.deliverer.runOnce();
      const during = receiver.received.at(-1)!;
      expect(during.verified).toBe(true);
      expect(during.header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
      clock.advance(DAY + 1);
      receiver.secret = rotated!.secret;
      await pay(t.orders);
      await t.deliverer.runOnce();
      const after = receiver.received.at(-1)!;
      expect(after.verified).toBe(true);
      expect(after.header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(1);
    });

    it('fans out only to enabled endpoints that want the type, and numbers the log in order', async () => {
      const t = setup();
      const closed = await t.endpoints.create(
        { url: receiver.url, eventTypes: ['payment.closed'] },
        clock.now(),
      );
      const all = await t.endpoints.create({ url: receiver.url }, clock.now());
      for (const e of await t.endpoints.list())
        if (![closed.endpoint.id, all.endpoint.id].includes(e.id))
          await t.endpoints.disable(e.id, 'test', clock.now());
      const order = await pay(t.orders);
      await fanOut(t.db, clock.now());
      const rows = await t.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.seq', 'd.event_seq')
        .select('d.endpoint_id')
        .where('e.order_id', '=', order.id)
        .execute();
      expect(rows.map((r) => r.endpoint_id)).toEqual([all.endpoint.id]);
      const positions = (
        await t.db.selectFrom('webhook_events').select(['seq', 'position']).orderBy('seq').execute()
      ).map((r) => Number(r.position));
      expect(positions.every((p) => p > 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
    });
  });
}

describe('webhook deliverer wake-up', () => {
  it('delivers within moments of the commit, with an interval of an hour', async () => {
    const [database] = testDatabases();
    const handle = await database!.openMigrated();
    const receiver = await startReceiver();
    try {
      const outbox = createOutbox({ livemode: false });
      const deliverer = testDeliverer(handle.db, { now: () => Date.now() }, { intervalMs: 3_600_000 });
      outbox.onCommitted(() => deliverer.wake());
      const { secret } = await createEndpointStore(handle.db).create({ url: receiver.url }, Date.now());
      receiver.secret = secret;
      deliverer.start();
      await new Promise((r) => setTimeout(r, 100)); // the start-up cycle has run and found nothing
      const object = {
        object: 'reconciliation_mismatch' as const,
        billDate: '2024-01-01',
        kind: 'missing_locally',
        outTradeNo: 'X',
        transactionId: null,
        details: {},
      };
      await handle.db
        .transaction()
        .execute((trx) => outbox.record(trx, 'reconciliation.mismatch', object, Date.now()));
      outbox.committed();
      const started = Date.now();
      while (receiver.applied.length === 0 && Date.now() - started < 3000)
        await new Promise((r) => setTimeout(r, 5));
      expect(receiver.applied).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(1000);
      await deliverer.stop();
    } finally {
      await receiver.close();
      await handle.close();
    }
  });
});

describe('webhook deliverer and a slow receiver', () => {
  it('counts an answer slower than 10 s as a failure, retries, and the receiver dedupes the second copy', async () => {
    const [database] = testDatabases();
    const handle = await database!.openMigrated();
    const receiver = await startReceiver();
    const clock = createManualClock(T0);
    receiver.now = () => clock.now();
    try {
      const outbox = createOutbox({ livemode: false });
      const deliverer = testDeliverer(handle.db, clock, { timeoutMs: 10_000 });
      const { secret } = await createEndpointStore(handle.db).create({ url: receiver.url }, clock.now());
      receiver.secret = secret;
      receiver.answer = (_r, count) => (count === 1 ? { status: 200, delayMs: 10_500 } : { status: 200 });
      const object = {
        object: 'reconciliation_mismatch' as const,
        billDate: '2024-01-01',
        kind: 'k',
        outTradeNo: 'SLOW',
        transactionId: null,
        details: {},
      };
      await handle.db
        .transaction()
        .execute((trx) => outbox.record(trx, 'reconciliation.mismatch', object, clock.now()));
      expect(await deliverer.runOnce()).toBe(1);
      const first = await handle.db.selectFrom('webhook_attempts').selectAll().execute();
      expect(first).toMatchObject([{ ok: 0, status_code: null, error: 'no answer within 10 s' }]);
      expect(first[0]!.latency_ms).toBeGreaterThanOrEqual(10_000);
      clock.advance(10_000);
      expect(await deliverer.runOnce()).toBe(1);
      await new Promise((r) => setTimeout(r, 600)); // the slow first request finishes on the receiver's side
      expect(receiver.received.map((r) => r.verified)).toEqual([true, true]);
      expect(receiver.applied).toHaveLength(1);
      const rows = await handle.db.selectFrom('webhook_deliveries').select(['status', 'attempts']).execute();
      expect(rows).toEqual([{ status: 'succeeded', attempts: 2 }]);
    } finally {
      await receiver.close();
      await handle.close();
    }
  }, 30_000);
});
