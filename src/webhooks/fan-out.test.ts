import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createEndpointStore } from './endpoint-store.js';
import { fanOut } from './fan-out.js';
import { recordEvents } from './outbox.js';

const T0 = Date.UTC(2026, 11, 2);
const object = { id: 'pay_1' } as never;

for (const database of testDatabases()) {
  describe(`fan-out on ${database.name}`, () => {
    let handle: TestDbHandle;
    beforeAll(async () => {
      handle = await database.openMigrated();
    });
    afterAll(() => handle.close());

    const events = () =>
      handle.db
        .selectFrom('webhook_events')
        .select(['seq', 'type', 'position', 'dispatched_at'])
        .orderBy('seq')
        .execute();

    it('places waiting events after the last place, in seq order, a limited number at a time', async () => {
      const endpoints = createEndpointStore(handle.db);
      const closedOnly = await endpoints.create(
        { url: 'https://shop.example/hook', eventTypes: ['payment.closed'] },
        T0,
      );
      const types = [
        'payment.succeeded',
        'payment.closed',
        'payment.succeeded',
        'payment.closed',
        'payment.closed',
      ] as const;
      await recordEvents(
        handle.db,
        types.map((type, i) => ({ type, object, livemode: false, now: T0 + i })),
      );

      expect(await fanOut(handle.db, T0 + 10, 2)).toBe(2);
      expect(await fanOut(handle.db, T0 + 20, 2)).toBe(2);
      // Events written while the log is half placed come after the ones already waiting.
      await recordEvents(handle.db, [{ type: 'payment.closed', object, livemode: false, now: T0 + 21 }]);
      expect(await fanOut(handle.db, T0 + 30, 2)).toBe(2);
      expect(await fanOut(handle.db, T0 + 40, 2)).toBe(0);

      const rows = await events();
      expect(rows.map((r) => Number(r.position))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(rows.map((r) => Number(r.dispatched_at))).toEqual([
        T0 + 10,
        T0 + 10,
        T0 + 20,
        T0 + 20,
        T0 + 30,
        T0 + 30,
      ]);

      // One delivery per event the endpoint wants, written oldest event first.
      const deliveries = await handle.db
        .selectFrom('webhook_deliveries')
        .select(['id', 'event_seq', 'endpoint_id'])
        .orderBy('id')
        .execute();
      const closedSeqs = rows.filter((r) => r.type === 'payment.closed').map((r) => Number(r.seq));
      expect(deliveries.map((d) => Number(d.event_seq))).toEqual(closedSeqs);
      expect(new Set(deliveries.map((d) => d.endpoint_id))).toEqual(new Set([closedOnly.endpoint.id]));
    });

    it('leaves placed events alone and finds nothing to do when nothing waits', async () => {
      const before = await events();
      expect(await fanOut(handle.db, T0 + 50)).toBe(0);
      expect(await events()).toEqual(before);
    });
  });
}
