import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createIdempotencyStore, type IdempotencyStore } from './idempotency-store.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

for (const database of testDatabases()) {
  describe(`idempotency store on ${database.name}`, () => {
    let handle: TestDbHandle;
    let keys: IdempotencyStore;
    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 10 });
      keys = createIdempotencyStore(handle.db);
    });
    afterAll(() => handle.close());

    const begin = (key: string, requestHash = 'h1', now = T0, userId = 'u1') =>
      keys.begin({ userId, key, requestHash, now, ttlMs: DAY });

    it('replays the stored response when the same key and body arrive after completion', async () => {
      expect(await begin('k-replay')).toEqual({ kind: 'new' });
      await keys.complete({
        userId: 'u1',
        key: 'k-replay',
        status: 201,
        body: '{"order":{"id":"o1"}}',
        orderId: 'o1',
      });
      expect(await begin('k-replay', 'h1', T0 + 1000)).toEqual({
        kind: 'done',
        status: 201,
        body: '{"order":{"id":"o1"}}',
      });
    });

    it('reports a different body under the same key as a mismatch, in flight or done', async () => {
      expect(await begin('k-mismatch')).toEqual({ kind: 'new' });
      expect(await begin('k-mismatch', 'h2')).toEqual({ kind: 'mismatch' });
      await keys.complete({ userId: 'u1', key: 'k-mismatch', status: 201, body: '{}' });
      expect(await begin('k-mismatch', 'h2')).toEqual({ kind: 'mismatch' });
    });

    it('gives exactly one of 50 concurrent requests with one key the go-ahead', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => begin('k-burst')));
      expect(results.filter((r) => r.kind === 'new')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'in_flight')).toHaveLength(49);
      await keys.complete({ userId: 'u1', key: 'k-burst', status: 201, body: 'stored' });
      const later = await Promise.all(Array.from({ length: 50 }, () => begin('k-burst')));
      expect(later.every((r) => r.kind === 'done' && r.body === 'stored')).toBe(true);
    });

    it('lets only the current holder of a claim record its order, once a slow request was taken over', async () => {
      // The first request claimed at T0 and stalled past the 60 s claim (a stalled process, a
      // clock step); a retry took the key over at T0 + 61 s before any order was recorded.
      const userId = 'u1';
      expect(await begin('k-fence')).toEqual({ kind: 'new' });
      const taken = await keys.takeOver({
        userId,
        key: 'k-fence',
        requestHash: 'h1',
        staleBefore: T0 + 1,
        now: T0 + 61_000,
      });
      expect(taken).toEqual({ orderId: null });
      expect(
        await keys.attachOrder({ userId, key: 'k-fence', orderId: 'o-retry', claimedAt: T0 + 61_000 }),
      ).toBe(true);
      // The stalled request wakes up: its order is refused, and its clean-up touches nothing.
      expect(await keys.attachOrder({ userId, key: 'k-fence', orderId: 'o-slow', claimedAt: T0 })).toBe(
        false,
      );
      await keys.release({ userId, key: 'k-fence', claimedAt: T0 });
      await keys.abandon({ userId, key: 'k-fence', claimedAt: T0 });
      const row = await handle.db
        .selectFrom('idempotency_keys')
        .select(['order_id', 'created_at'])
        .where('key', '=', 'k-fence')
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ order_id: 'o-retry', created_at: T0 + 61_000 });
    });

    it('lets a retry run again after the first attempt was abandoned', async () => {
      expect(await begin('k-abandon')).toEqual({ kind: 'new' });
      await keys.abandon({ userId: 'u1', key: 'k-abandon' });
      expect(await begin('k-abandon', 'h-other')).toEqual({ kind: 'new' });
    });

    it('does not let abandon erase a completed response', async () => {
      await begin('k-kept');
      await keys.complete({ userId: 'u1', key: 'k-kept', status: 201, body: 'kept' });
      await keys.abandon({ userId: 'u1', key: 'k-kept' });
      expect(await begin('k-kept')).toEqual({ kind: 'done', status: 201, body: 'kept' });
    });

    it('treats an expired key as never seen, and keeps keys of different users apart', async () => {
      await begin('k-expire');
      await keys.complete({ userId: 'u1', key: 'k-expire', status: 201, body: 'old' });
      expect(await begin('k-expire', 'h1', T0 + DAY - 1)).toMatchObject({ kind: 'done' });
      expect(await begin('k-expire', 'h-new', T0 + DAY)).toEqual({ kind: 'new' });
      expect(await begin('k-expire', 'h-new', T0 + DAY + 1)).toMatchObject({ kind: 'in_flight' });
      expect(await begin('k-expire', 'h1', T0, 'u2')).toEqual({ kind: 'new' });
    });

    it('purges expired keys and only those', async () => {
      const base = T0 + 10 * DAY;
      await keys.begin({ userId: 'p', key: 'old', requestHash: 'h', now: base, ttlMs: 1000 });
      await keys.begin({ userId: 'p', key: 'live', requestHash: 'h', now: base, ttlMs: DAY });
      const countBefore = await countRows();
      const purged = await keys.purgeExpired(base + 1000);
      expect(purged).toBeGreaterThanOrEqual(1);
      expect(await countRows()).toBe(countBefore - purged);
      const left = await handle.db
        .selectFrom('idempotency_keys')
        .select('key')
        .where('user_id', '=', 'p')
        .execute();
      expect(left.map((r) => r.key)).toEqual(['live']);
    });

    it('refuses an empty key or one longer than 255 characters', async () => {
      await expect(begin('')).rejects.toThrow(RangeError);
      await expect(begin('x'.repeat(256))).rejects.toThrow(/1 to 255/);
      expect(await begin('x'.repeat(255))).toEqual({ kind: 'new' });
    });

    async function countRows(): Promise<number> {
      const { n } = await handle.db
        .selectFrom('idempotency_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(n);
    }
  });
}
