import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
import { AppError } from '../errors.js';
import {
  createIdempotencyStore,
  type IdempotencyClaim,
  type IdempotencyStore,
  recordResources,
} from './idempotency-store.js';

const T0 = Date.UTC(2026, 11, 2);
const TTL = 60_000;

/** Statements sent while `work` runs on PostgreSQL, less BEGIN and COMMIT; none counted on SQLite. */
async function counted<T>(database: { name: string }, work: () => Promise<T>): Promise<[T, string[]]> {
  let result: T | undefined;
  const sent = await statementsSent(async () => {
    result = await work();
  });
  const statements = database.name === 'postgres' ? sent.filter((s) => !/^(begin|commit)$/i.test(s)) : [];
  return [result as T, statements];
}

for (const database of testDatabases()) {
  describe(`idempotency store batches on ${database.name}`, () => {
    let handle: TestDbHandle;
    let store: IdempotencyStore;
    beforeAll(async () => {
      handle = await database.openMigrated();
      store = createIdempotencyStore(handle.db);
    });
    afterAll(() => handle.close());

    const row = (key: string) =>
      handle.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', 'u1')
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
    const claim = (key: string, now: number, requestHash = 'h', ttlMs = TTL) =>
      store.claim({ scope: 'u1', key, requestHash, now, ttlMs });
    const held = (key: string, claimedAt: number): IdempotencyClaim => ({ scope: 'u1', key, claimedAt });

    it('claims keys that arrive together in one statement, each as it would alone', async () => {
      expect(await claim('c-live', T0)).toBe(true);
      expect(await claim('c-expired', T0, 'h-old', 10)).toBe(true);
      const now = T0 + 100;
      const [won, statements] = await counted(database, () =>
        Promise.all([
          claim('c-new-1', now),
          claim('c-twice', now, 'h-first'),
          claim('c-live', now),
          claim('c-twice', now, 'h-second'),
          claim('c-expired', now, 'h-new'),
          claim('c-new-2', now),
        ]),
      );
      // A key asked twice is won by its first claim; the second finds it live, as it would after.
      expect(won).toEqual([true, true, false, false, true, true]);
      if (database.name === 'postgres') expect(statements).toHaveLength(1);
      expect(await row('c-twice')).toMatchObject({ request_hash: 'h-first', claimed_at: now });
      expect(await row('c-live')).toMatchObject({ claimed_at: T0, expires_at: T0 + TTL });
      expect(await row('c-expired')).toMatchObject({
        request_hash: 'h-new',
        state: 'in_flight',
        claimed_at: now,
        expires_at: now + TTL,
      });
    });

    it('records the resources of several attempts in one statement', async () => {
      const now = T0 + 200;
      await Promise.all(['r-1', 'r-2', 'r-3'].map((key) => claim(key, now)));
      const [, statements] = await counted(database, () =>
        handle.db.transaction().execute((trx) =>
          recordResources(trx, [
            { claim: held('r-1', now), resourceId: 'order-1' },
            { claim: held('r-2', now), resourceId: 'order-2' },
            { claim: held('r-3', now), resourceId: 'order-3' },
          ]),
        ),
      );
      if (database.name === 'postgres') expect(statements).toHaveLength(1);
      expect((await Promise.all(['r-1', 'r-2', 'r-3'].map(row))).map((r) => r.resource_id)).toEqual([
        'order-1',
        'order-2',
        'order-3',
      ]);
    });

    it('refuses the whole batch when one attempt no longer holds its key, so none is recorded', async () => {
      const now = T0 + 300;
      await Promise.all(['f-held', 'f-taken'].map((key) => claim(key, now)));
      const attempt = handle.db.transaction().execute((trx) =>
        recordResources(trx, [
          { claim: held('f-held', now), resourceId: 'order-held' },
          // Taken over meanwhile: the key's claim time has moved on from this attempt's.
          { claim: held('f-taken', now - 1), resourceId: 'order-late' },
        ]),
      );
      await expect(attempt).rejects.toSatisfy(
        (err) => err instanceof AppError && err.code === 'IDEMPOTENCY_KEY_IN_FLIGHT',
      );
      expect((await row('f-held')).resource_id).toBeNull();
      expect((await row('f-taken')).resource_id).toBeNull();
    });

    it('does not record a second resource for a key that already has one', async () => {
      const now = T0 + 400;
      await claim('once', now);
      await handle.db
        .transaction()
        .execute((trx) => recordResources(trx, [{ claim: held('once', now), resourceId: 'order-a' }]));
      const again = handle.db
        .transaction()
        .execute((trx) => recordResources(trx, [{ claim: held('once', now), resourceId: 'order-b' }]));
      await expect(again).rejects.toThrow(/took over this Idempotency-Key/);
      expect((await row('once')).resource_id).toBe('order-a');
    });

    it('completes attempts that finish together in one statement, and only those that hold their key', async () => {
      const now = T0 + 500;
      await Promise.all(['d-1', 'd-2', 'd-stale'].map((key) => claim(key, now)));
      await handle.db
        .transaction()
        .execute((trx) => recordResources(trx, [{ claim: held('d-1', now), resourceId: 'order-kept' }]));
      const done = (key: string, claimedAt: number, body: string, resourceId: string | null) =>
        store.complete({ claim: held(key, claimedAt), status: 201, body, resourceId, now: now + 1 });
      const [, statements] = await counted(database, () =>
        Promise.all([
          done('d-1', now, 'one', 'order-other'),
          done('d-2', now, 'two', 'order-2'),
          done('d-2', now, 'two again', 'order-2b'),
          done('d-stale', now - 1, 'stale', 'order-stale'),
        ]),
      );
      if (database.name === 'postgres') expect(statements).toHaveLength(1);
      expect(await row('d-1')).toMatchObject({
        state: 'done',
        response_status: 201,
        response_body: 'one',
        // The resource recorded with the order stands; the completion's is only a fallback.
        resource_id: 'order-kept',
        completed_at: now + 1,
      });
      // One attempt completing twice at once: the first completion stands, as it would in turn.
      expect(await row('d-2')).toMatchObject({ state: 'done', response_body: 'two', resource_id: 'order-2' });
      expect(await row('d-stale')).toMatchObject({
        state: 'in_flight',
        response_body: null,
        resource_id: null,
      });
    });
  });
}
