import type { Transaction, Updateable } from 'kysely';
import type { Database, Db, IdempotencyKeysTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { createBatcher } from './batcher.js';

export type IdempotencyBegin =
  | { kind: 'new' }
  | { kind: 'in_flight'; startedAt: number }
  | { kind: 'mismatch' }
  | { kind: 'done'; status: number; body: string };

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;

/** Keys longer than this are refused before they reach the database (the column is checked too). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * Idempotency-Key bookkeeping, per user. `begin` claims a key atomically: exactly one of any
 * number of concurrent requests with the same key gets `new` and does the work; the others see
 * it in flight, or its stored reply once `complete` has run.
 */
export function createIdempotencyStore(db: Db) {
  /**
   * One statement: insert the key, or take over a row whose time is up. A live row is left alone
   * (the WHERE on DO UPDATE), and RETURNING then yields nothing.
   */
  async function claimIn(trx: Db | Transaction<Database>, a: BeginArgs): Promise<boolean> {
    const fresh = {
      request_hash: a.requestHash,
      state: 'in_flight' as const,
      response_status: null,
      response_body: null,
      order_id: null,
      created_at: a.now,
      expires_at: a.now + a.ttlMs,
    };
    const row = await trx
      .insertInto('idempotency_keys')
      .values({ user_id: a.userId, key: a.key, ...fresh })
      .onConflict((oc) =>
        oc.columns(['user_id', 'key']).doUpdateSet(fresh).where('idempotency_keys.expires_at', '<=', a.now),
      )
      .returning('key')
      .executeTakeFirst();
    return row !== undefined;
  }

  // Each write here is a durable commit; those that arrive together share one transaction
  // (group commit, batcher.ts), and every caller resolves only after it has committed.
  const concurrency = { maxConcurrent: dialectOf(db) === 'postgres' ? 4 : 1 };
  const claims = createBatcher<BeginArgs, boolean>({
    ...concurrency,
    run: (items) =>
      db.transaction().execute(async (trx) => {
        const won: boolean[] = [];
        for (const a of items) won.push(await claimIn(trx, a));
        return won;
      }),
  });
  const claim = (a: BeginArgs) => claims.submit(a);

  /** `claimedAt`: only the claim made (or taken over) at that time may write; see attachOrder. */
  type Update = { userId: string; key: string; set: Updateable<IdempotencyKeysTable>; claimedAt?: number };
  const updates = createBatcher<Update, boolean>({
    ...concurrency,
    key: (u) => `${u.userId}\u0000${u.key}`,
    run: (items) =>
      db.transaction().execute(async (trx) => {
        const written: boolean[] = [];
        for (const u of items) {
          let update = trx
            .updateTable('idempotency_keys')
            .set(u.set)
            .where('user_id', '=', u.userId)
            .where('key', '=', u.key)
            .where('state', '=', 'in_flight');
          if (u.claimedAt !== undefined) update = update.where('created_at', '=', u.claimedAt);
          const { numUpdatedRows } = await update.executeTakeFirst();
          written.push(numUpdatedRows > 0n);
        }
        return written;
      }),
  });

  return {
    async begin(a: BeginArgs): Promise<IdempotencyBegin> {
      if (a.key.length === 0 || a.key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
        throw new RangeError(
          `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${a.key.length})`,
        );
      }
      // A row can vanish between the claim and the read (abandoned by its owner); then claim again.
      for (let attempt = 0; attempt < 5; attempt++) {
        if (await claim(a)) return { kind: 'new' };
        const row = await db
          .selectFrom('idempotency_keys')
          .select(['request_hash', 'state', 'response_status', 'response_body', 'expires_at', 'created_at'])
          .where('user_id', '=', a.userId)
          .where('key', '=', a.key)
          .executeTakeFirst();
        if (!row || row.expires_at <= a.now) continue;
        // A different body is a client bug whatever the state: say so rather than "try later".
        if (row.request_hash !== a.requestHash) return { kind: 'mismatch' };
        if (row.state === 'in_flight') return { kind: 'in_flight', startedAt: row.created_at };
        return { kind: 'done', status: row.response_status ?? 500, body: row.response_body ?? '' };
      }
      // Only a key abandoned and re-claimed over and over by others gets here: it is busy.
      return { kind: 'in_flight', startedAt: a.now };
    },

    /** Stores the reply to replay for this key; only the in-flight claim can be completed. */
    async complete(a: {
      userId: string;
      key: string;
      status: number;
      body: string;
      orderId?: string;
    }): Promise<void> {
      // Not fenced: whoever completes first stores the reply; a claim holder and the request that
      // took it over work on the same order (see attachOrder), so either reply is that order's.
      await updates.submit({
        userId: a.userId,
        key: a.key,
        set: { state: 'done', response_status: a.status, response_body: a.body, order_id: a.orderId ?? null },
      });
    },

    /**
     * Records which order an in-flight request created, so a retry after a crash can finish it.
     * With `claimedAt` (the time the caller claimed or took over the key) it is written only if
     * the claim is still the caller's: a request that outlived its claim (a stalled process, a
     * clock step) and was taken over gets false, and must not go on to a second order.
     */
    async attachOrder(a: {
      userId: string;
      key: string;
      orderId: string;
      claimedAt?: number;
    }): Promise<boolean> {
      return updates.submit({
        userId: a.userId,
        key: a.key,
        set: { order_id: a.orderId },
        ...(a.claimedAt !== undefined && { claimedAt: a.claimedAt }),
      });
    },

    /**
     * Takes over an in-flight claim that started before `staleBefore` (its owner crashed or gave
     * up), restarting its clock. Exactly one of several concurrent callers wins; the winner gets
     * the order the claim had created, if any.
     */
    async takeOver(a: {
      userId: string;
      key: string;
      requestHash: string;
      staleBefore: number;
      now: number;
    }): Promise<{ orderId: string | null } | undefined> {
      const row = await db
        .updateTable('idempotency_keys')
        .set({ created_at: a.now })
        .where('user_id', '=', a.userId)
        .where('key', '=', a.key)
        .where('state', '=', 'in_flight')
        .where('request_hash', '=', a.requestHash)
        .where('created_at', '<', a.staleBefore)
        .returning('order_id')
        .executeTakeFirst();
      return row && { orderId: row.order_id };
    },

    /** Marks an in-flight claim as immediately stale, keeping its order, so the next retry resumes it. */
    async release(a: { userId: string; key: string; claimedAt?: number }): Promise<void> {
      let query = db
        .updateTable('idempotency_keys')
        .set({ created_at: 0 })
        .where('user_id', '=', a.userId)
        .where('key', '=', a.key)
        .where('state', '=', 'in_flight');
      // Never the claim of a request that took this one over.
      if (a.claimedAt !== undefined) query = query.where('created_at', '=', a.claimedAt);
      await query.execute();
    },

    /** Forgets an in-flight claim whose work failed before anything lasting happened, so a retry may run. */
    async abandon(a: { userId: string; key: string; claimedAt?: number }): Promise<void> {
      let query = db
        .deleteFrom('idempotency_keys')
        .where('user_id', '=', a.userId)
        .where('key', '=', a.key)
        .where('state', '=', 'in_flight');
      if (a.claimedAt !== undefined) query = query.where('created_at', '=', a.claimedAt);
      await query.execute();
    },

    /** Deletes expired keys; returns how many. */
    async purgeExpired(now: number): Promise<number> {
      const { numDeletedRows } = await db
        .deleteFrom('idempotency_keys')
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      return Number(numDeletedRows);
    },
  };
}

interface BeginArgs {
  userId: string;
  key: string;
  requestHash: string;
  now: number;
  ttlMs: number;
}
