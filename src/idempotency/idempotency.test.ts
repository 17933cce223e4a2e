import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDbHandle, testDatabases } from '../../test/db/dialects.js';
import { createManualClock, type ManualClock } from '../clock.js';
import { AppError } from '../errors.js';
import { createIdempotency, IDEMPOTENCY_TTL_MS, type Idempotent, IN_FLIGHT_STALE_MS } from './idempotency.js';
import { createIdempotencyStore, type IdempotencyStore, recordResource } from './idempotency-store.js';

const T0 = Date.UTC(2024, 0, 1);

/** Work that answers `body` about resource `id`, counting its runs. */
function worker(body = 'made', id: string | null = 'r1') {
  const runs: (string | null)[] = [];
  const work = async ({ resumeId }: { resumeId: string | null }) => {
    runs.push(resumeId);
    return { status: 201, body, resourceId: id };
  };
  return { work, runs };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof AppError ? err.code : String(err);
  }
};

for (const database of testDatabases()) {
  describe(`idempotency engine on ${database.name}`, () => {
    let handle: TestDbHandle;
    let store: IdempotencyStore;
    let clock: ManualClock;
    let idempotent: Idempotent;
    beforeAll(async () => {
      handle = await database.openMigrated({ poolSize: 10 });
      store = createIdempotencyStore(handle.db);
      clock = createManualClock(T0);
      idempotent = createIdempotency({ store, clock });
    });
    afterAll(() => handle.close());

    const row = (key: string, scope = 'u1') =>
      handle.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirst();

    it('replays the stored reply, byte for byte, when the same key and body arrive again', async () => {
      const first = worker('{"order":{"id":"o1"}}', 'o1');
      expect(await idempotent('u1', 'k-replay', 'h1', first.work)).toEqual({
        status: 201,
        body: '{"order":{"id":"o1"}}',
        replayed: false,
      });
      const again = worker('other');
      expect(await idempotent('u1', 'k-replay', 'h1', again.work)).toEqual({
        status: 201,
        body: '{"order":{"id":"o1"}}',
        replayed: true,
      });
      expect(again.runs).toEqual([]);
      expect(await row('k-replay')).toMatchObject({
        state: 'done',
        resource_id: 'o1',
        claimed_at: T0,
        completed_at: T0,
        expires_at: T0 + IDEMPOTENCY_TTL_MS,
      });
    });

    it('refuses another body under the same key with 422, in flight or done', async () => {
      let release: () => void = () => {};
      const running = idempotent('u1', 'k-mismatch', 'h1', async () => {
        await new Promise<void>((r) => {
          release = r;
        });
        return { status: 201, body: 'x', resourceId: null };
      });
      await until(async () => (await row('k-mismatch')) !== undefined);
      expect(await codeOf(idempotent('u1', 'k-mismatch', 'h2', worker().work))).toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(await codeOf(idempotent('u1', 'k-mismatch', 'h1', worker().work))).toBe(
        'IDEMPOTENCY_KEY_IN_FLIGHT',
      );
      release();
      await running;
      expect(await codeOf(idempotent('u1', 'k-mismatch', 'h2', worker().work))).toBe(
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('runs the work once for 50 concurrent requests with one key; the others are told to retry', async () => {
      const w = worker('stored');
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () => idempotent('u1', 'k-burst', 'h', w.work)),
      );
      expect(w.runs).toHaveLength(1);
      const refused = results.filter((r) => r.status === 'rejected');
      expect(refused.every((r) => (r.reason as AppError).code === 'IDEMPOTENCY_KEY_IN_FLIGHT')).toBe(true);
      const later = await Promise.all(
        Array.from({ length: 20 }, () => idempotent('u1', 'k-burst', 'h', w.work)),
      );
      expect(later.every((r) => r.replayed && r.body === 'stored')).toBe(true);
    });

    it('forgets a key whose work failed before making anything, so a retry (any body) runs afresh', async () => {
      const failing = idempotent('u1', 'k-forget', 'h1', async () => {
        throw new AppError('UNKNOWN_PRODUCT', 'no');
      });
      expect(await codeOf(failing)).toBe('UNKNOWN_PRODUCT');
      expect(await row('k-forget')).toBeUndefined();
      const w = worker();
      await idempotent('u1', 'k-forget', 'h-other', w.work);
      expect(w.runs).toEqual([null]);
    });

    it('resumes the resource at once when the work failed after recording it', async () => {
      const failing = idempotent('u1', 'k-resume', 'h1', async ({ claim }) => {
        await handle.db.transaction().execute((trx) => recordResource(trx, claim, 'order-9'));
        throw new AppError('PAYMENT_UNAVAILABLE', 'WeChat is down');
      });
      expect(await codeOf(failing)).toBe('PAYMENT_UNAVAILABLE');
      expect(await row('k-resume')).toMatchObject({ state: 'interrupted', resource_id: 'order-9' });
      expect(await codeOf(idempotent('u1', 'k-resume', 'h2', worker().work))).toBe('IDEMPOTENCY_KEY_REUSED');
      const w = worker('finished', 'order-9');
      expect((await idempotent('u1', 'k-resume', 'h1', w.work)).body).toBe('finished');
      expect(w.runs).toEqual(['order-9']);
    });

    it('takes over a claim left in flight by a dead request only once it is stale, and fences the dead one out', async () => {
      const start = clock.now();
      let deadClaim: Parameters<typeof recordResource>[1] | undefined;
      // The first request claims the key and dies: its work never returns.
      void idempotent('u1', 'k-stale', 'h1', async ({ claim }) => {
        deadClaim = claim;
        return new Promise(() => {});
      });
      await until(async () => deadClaim !== undefined);
      expect(await codeOf(idempotent('u1', 'k-stale', 'h1', worker().work))).toBe(
        'IDEMPOTENCY_KEY_IN_FLIGHT',
      );
      clock.advance(IN_FLIGHT_STALE_MS + 1);
      const w = worker('taken over', 'r-new');
      const taken = idempotent('u1', 'k-stale', 'h1', async (a) => {
        // The dead request wakes up and tries to record what it made: too late, refused.
        const late = handle.db.transaction().execute((trx) => recordResource(trx, deadClaim!, 'r-dead'));
        expect(await codeOf(late)).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
        return w.work(a);
      });
      expect((await taken).body).toBe('taken over');
      expect(w.runs).toEqual([null]);
      expect(await row('k-stale')).toMatchObject({
        resource_id: 'r-new',
        claimed_at: start + IN_FLIGHT_STALE_MS + 1,
      });
    });

    it('keeps scopes apart and treats an expired key as never seen', async () => {
      await idempotent('u1', 'k-expire', 'h1', worker('old').work);
      expect((await idempotent('u2', 'k-expire', 'h-else', worker('u2').work)).body).toBe('u2');
      expect((await idempotent('apikey:k1', 'k-expire', 'h-else', worker('key').work)).body).toBe('key');
      clock.advance(IDEMPOTENCY_TTL_MS);
      expect((await idempotent('u1', 'k-expire', 'h-new', worker('new').work)).body).toBe('new');
    });

    it('refuses an empty key or one longer than 255 characters', async () => {
      expect(await codeOf(idempotent('u1', '', 'h', worker().work))).toBe('IDEMPOTENCY_KEY_INVALID');
      expect(await codeOf(idempotent('u1', 'x'.repeat(256), 'h', worker().work))).toBe(
        'IDEMPOTENCY_KEY_INVALID',
      );
      expect((await idempotent('u1', 'x'.repeat(255), 'h', worker().work)).replayed).toBe(false);
    });

    it('purges expired keys and only those', async () => {
      const before = await handle.db.selectFrom('idempotency_keys').select('key').execute();
      await idempotent('p', 'live', 'h', worker().work);
      const purged = await store.purgeExpired(clock.now());
      const left = await handle.db.selectFrom('idempotency_keys').select('key').execute();
      expect(left.length).toBe(before.length + 1 - purged);
      expect(left.map((r) => r.key)).toContain('live');
      expect(purged).toBeGreaterThanOrEqual(1);
    });
  });
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}
