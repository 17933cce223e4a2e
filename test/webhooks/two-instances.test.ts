/**
 * Deliverers as separate instances would run them: each with its own database handle (its own
 * pool or connection), sharing one database and one endpoint. A receiver written without our
 * code counts requests for the same event that overlap in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { Db } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { createDeliveryStore } from '../../src/webhooks/delivery-store.js';
import { createEndpointStore } from '../../src/webhooks/endpoint-store.js';
import { fanOut } from '../../src/webhooks/fan-out.js';
import { recordEvents } from '../../src/webhooks/outbox.js';
import { type TestDbHandle, testDatabases } from '../db/dialects.js';
import { startReceiver, type TestReceiver } from './receiver.js';
import { testDeliverer } from './test-deliverer.js';

const T0 = Date.UTC(2024, 0, 1);

for (const database of testDatabases()) {
  describe(`webhook delivery from two instances on ${database.name}`, () => {
    let handle: TestDbHandle;
    const others: { close(): Promise<void> }[] = [];
    let receiver: TestReceiver;
    const clock = createManualClock(T0);

    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 4 });
      receiver = await startReceiver();
      receiver.now = () => clock.now();
    });
    afterAll(async () => {
      for (const o of others) await o.close();
      await receiver.close();
      await handle.close();
    });

    /** An instance: a handle of its own on the same database, and a deliverer named `owner`. */
    async function instance(owner: string) {
      const own = await openDatabase(handle.url, { poolSize: 4 });
      others.push(own);
      const deliverer = testDeliverer(own.db, clock, { timeoutMs: 5000, maxConcurrent: 6 }, owner);
      return { db: own.db, deliverer };
    }

    async function writeEvents(db: Db, n: number, tag: string): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 1) {
        const object = {
          object: 'reconciliation_mismatch' as const,
          billDate: '2024-01-01',
          kind: 'missing_locally',
          outTradeNo: `${tag}${i}`,
          transactionId: null,
          details: {},
        };
        ids.push(
          ...(await db
            .transaction()
            .execute((trx) =>
              recordEvents(trx, [
                { type: 'reconciliation.mismatch', object, livemode: false, now: clock.now() },
              ]),
            )),
        );
      }
      return ids;
    }

    async function onlyEndpoint(db: Db) {
      const endpoints = createEndpointStore(db);
      for (const e of await endpoints.list()) await endpoints.disable(e.id, 'test', clock.now());
      const { endpoint, secret } = await endpoints.create({ url: receiver.url }, clock.now());
      receiver.secret = secret;
      return endpoint.id;
    }

    it('never sends one attempt twice at once, while sharing the work and the retries', async () => {
      const endpointId = await onlyEndpoint(handle.db);
      // Slow enough that the two instances' claims overlap; the first try of each event fails.
      receiver.answer = (_r, count) =>
        count === 1 ? { status: 500, delayMs: 20 } : { status: 200, delayMs: 20 };
      const ids = await writeEvents(handle.db, 30, `two-${database.name}-`);
      const a = await instance('instance-a');
      const b = await instance('instance-b');
      for (let round = 0; round < 10 && ids.some((id) => !receiver.applied.includes(id)); round += 1) {
        await Promise.all([
          a.deliverer.runOnce(),
          b.deliverer.runOnce(),
          a.deliverer.runOnce(),
          b.deliverer.runOnce(),
        ]);
        clock.advance(20_000);
      }
      expect(ids.filter((id) => !receiver.applied.includes(id))).toEqual([]);
      expect(receiver.maxOverlap).toBe(1);
      const attempts = await handle.db
        .selectFrom('webhook_attempts as a')
        .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
        .select(['a.delivery_id', 'a.attempt', 'a.owner', 'a.ok'])
        .where('d.endpoint_id', '=', endpointId)
        .execute();
      const keys = attempts.map((r) => `${r.delivery_id}/${r.attempt}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(attempts).toHaveLength(60); // each event: one 500, then one 200
      expect(receiver.received.filter((r) => ids.includes(r.eventId))).toHaveLength(60);
      expect(new Set(attempts.map((r) => r.owner))).toEqual(new Set(['instance-a', 'instance-b']));
    });

    it('delivers events committed while no deliverer ran (killed after the commit), from a fresh instance', async () => {
      await onlyEndpoint(handle.db);
      receiver.answer = () => ({ status: 200 });
      const ids = await writeEvents(handle.db, 5, `killed-${database.name}-`);
      const fresh = await instance('after-restart');
      await fresh.deliverer.runOnce();
      expect(ids.every((id) => receiver.applied.includes(id))).toBe(true);
    });

    it('takes over a delivery whose instance died mid-attempt once its lease runs out, never before', async () => {
      await onlyEndpoint(handle.db);
      receiver.answer = () => ({ status: 200 });
      const [id] = await writeEvents(handle.db, 1, `lease-${database.name}-`);
      await fanOut(handle.db, clock.now());
      const dead = await createDeliveryStore(handle.db).claim({
        now: clock.now(),
        limit: 10,
        leaseMs: 60_000,
        owner: 'dead',
      });
      expect(dead).toHaveLength(1);
      const survivor = await instance('survivor');
      expect(await survivor.deliverer.runOnce()).toBe(0);
      clock.advance(59_000);
      expect(await survivor.deliverer.runOnce()).toBe(0);
      clock.advance(2_000);
      expect(await survivor.deliverer.runOnce()).toBe(1);
      expect(receiver.applied).toContain(id);
      // The dead instance's late result changes nothing: its lease is gone.
      const late = await createDeliveryStore(handle.db).finish(
        dead[0]!,
        {
          ok: false,
          startedAt: clock.now(),
          latencyMs: 1,
          statusCode: 500,
          responseBody: '',
          error: 'HTTP 500',
        },
        { now: clock.now(), owner: 'dead', retryAt: clock.now() + 10_000 },
      );
      expect(late.status).toBe('lease_lost');
      const row = await handle.db
        .selectFrom('webhook_deliveries')
        .select('status')
        .where('id', '=', dead[0]!.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('succeeded');
    });
  });
}
