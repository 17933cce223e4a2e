import type { Transaction } from 'kysely';
import { batchesInFlight, writeStatements } from '../db/commit-group.js';
import type { Database, Db, IdempotencyKeysTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { compiledOnce } from '../db/size-classes.js';
import { AppError } from '../errors.js';
import { createBatcher } from '../orders/batcher.js';

/**
 * One attempt's hold on a key. `claimedAt` fences it: every write of the attempt names it, so
 * an attempt that was taken over (it outlived the stale timeout) can no longer write.
 */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  readonly claimedAt: number;
}

/** A key's row as the engine reads it. */
export type KeyRow = Pick<
  IdempotencyKeysTable,
  'request_hash' | 'state' | 'resource_id' | 'claimed_at' | 'expires_at' | 'response_status' | 'response_body'
>;

type Writer = Db | Transaction<Database>;

/** The row as long as `claim` still holds it: the same scope, key and claim time, still in flight. */
const heldBy = (claim: IdempotencyClaim) => ({
  scope: claim.scope,
  key: claim.key,
  claimed_at: claim.claimedAt,
  state: 'in_flight' as const,
});

/*
 * An order or a refund with an Idempotency-Key runs the claim, the resource record and the
 * completion once each: compiled once per dialect (size-classes.ts, compiledOnce), with the
 * claim's scope, key and claim time as named values.
 */
const heldValues = (claim: IdempotencyClaim) => ({
  scope: claim.scope,
  key: claim.key,
  claimedAt: claim.claimedAt,
});
const heldByValue = (value: <T = string>(key: string) => T) =>
  heldBy({ scope: value('scope'), key: value('key'), claimedAt: value<number>('claimedAt') });

/** Insert the key, or take over a row whose time is up; a live row is left alone (no RETURNING). */
const claimInsert = compiledOnce((trx: Writer, value) => {
  const fresh = {
    request_hash: value('requestHash'),
    state: 'in_flight' as const,
    resource_id: null,
    claimed_at: value<number>('now'),
    completed_at: null,
    expires_at: value<number>('expiresAt'),
    response_status: null,
    response_body: null,
  };
  return trx
    .insertInto('idempotency_keys')
    .values({ scope: value('scope'), key: value('key'), ...fresh })
    .onConflict((oc) =>
      oc
        .columns(['scope', 'key'])
        .doUpdateSet(fresh)
        .where('idempotency_keys.expires_at', '<=', value<number>('now')),
    )
    .returning('key')
    .compile();
});

const resourceRecord = compiledOnce((trx: Writer, value) =>
  trx
    .updateTable('idempotency_keys')
    .set({ resource_id: value('resourceId') })
    .where((eb) => eb.and(heldByValue(value)))
    .where('resource_id', 'is', null)
    .returning('key')
    .compile(),
);

const completion = compiledOnce((trx: Writer, value) =>
  trx
    .updateTable('idempotency_keys')
    .set((eb) => ({
      state: 'done',
      completed_at: value<number>('now'),
      response_status: value<number>('status'),
      response_body: value('body'),
      resource_id: eb.fn.coalesce('resource_id', eb.val(value<string | null>('resourceId'))),
    }))
    .where((eb) => eb.and(heldByValue(value)))
    .compile(),
);

/**
 * Records, inside the caller's transaction, which resource (order, refund) an attempt made. The
 * order or refund and this pointer commit together, so a crash can never leave a resource that
 * its key does not lead to. An attempt whose claim was taken over meanwhile is refused here, and
 * its transaction rolls back: the request that took the key over makes the one resource.
 */
export async function recordResource(trx: Writer, claim: IdempotencyClaim, resourceId: string) {
  const { rows } = await trx.executeQuery(
    resourceRecord(trx, dialectOf<Database>(trx)).bind({ ...heldValues(claim), resourceId }),
  );
  const row = rows[0];
  if (!row) {
    throw new AppError(
      'IDEMPOTENCY_KEY_IN_FLIGHT',
      'Another request took over this Idempotency-Key; retry to get its answer.',
      { retryAfter: 1 },
    );
  }
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;

/**
 * The SQL of the idempotency engine (idempotency.ts holds the rules). Claims and completions are
 * durable commits; those that arrive together share one transaction (group commit, batcher.ts),
 * taken in key order so concurrent batches lock rows in one order.
 */
export function createIdempotencyStore(db: Db) {
  const dialect = dialectOf(db);
  const concurrency = { maxConcurrent: batchesInFlight(dialect) };
  const keyOf = (a: { scope: string; key: string }) => `${a.scope}\u0000${a.key}`;

  type Claim = { scope: string; key: string; requestHash: string; now: number; ttlMs: number };
  /** Insert the key, or take over a row whose time is up; a live row is left alone (no RETURNING). */
  const claimStatement = (a: Claim) =>
    claimInsert(db, dialect).bind({
      scope: a.scope,
      key: a.key,
      requestHash: a.requestHash,
      now: a.now,
      expiresAt: a.now + a.ttlMs,
    });
  const claims = createBatcher<Claim, boolean>({
    ...concurrency,
    key: keyOf,
    // A claim alone is one statement committed by itself (no BEGIN and COMMIT on PostgreSQL).
    run: async (items) =>
      (await writeStatements(db, items.map(claimStatement))).map((r) => r.rows.length > 0),
  });

  type Completion = {
    claim: IdempotencyClaim;
    status: number;
    body: string;
    resourceId: string | null;
    now: number;
  };
  const completionStatement = (c: Completion) =>
    completion(db, dialect).bind({
      ...heldValues(c.claim),
      now: c.now,
      status: c.status,
      body: c.body,
      resourceId: c.resourceId,
    });
  const completions = createBatcher<Completion, void>({
    ...concurrency,
    key: (c) => keyOf(c.claim),
    async run(items) {
      await writeStatements(db, items.map(completionStatement));
      return items.map(() => undefined);
    },
  });

  return {
    /** True when this call now holds the key (new, or expired and reclaimed). */
    claim: (a: Claim): Promise<boolean> => claims.submit(a),

    read(scope: string, key: string): Promise<KeyRow | undefined> {
      return db
        .selectFrom('idempotency_keys')
        .select([
          'request_hash',
          'state',
          'resource_id',
          'claimed_at',
          'expires_at',
          'response_status',
          'response_body',
        ])
        .where('scope', '=', scope)
        .where('key', '=', key)
        .executeTakeFirst();
    },

    /**
     * Takes over an interrupted key, or an in-flight one claimed before `staleBefore` (its owner
     * died or gave up), moving `claimed_at` to now. One statement: of several concurrent callers
     * exactly one wins, and it gets the resource the key had made, if any.
     */
    async takeOver(a: { scope: string; key: string; requestHash: string; staleBefore: number; now: number }) {
      const row = await db
        .updateTable('idempotency_keys')
        .set({ state: 'in_flight', claimed_at: a.now })
        .where('scope', '=', a.scope)
        .where('key', '=', a.key)
        .where('request_hash', '=', a.requestHash)
        .where('expires_at', '>', a.now)
        .where((eb) =>
          eb.or([
            eb('state', '=', 'interrupted'),
            eb.and([eb('state', '=', 'in_flight'), eb('claimed_at', '<', a.staleBefore)]),
          ]),
        )
        .returning('resource_id')
        .executeTakeFirst();
      return row && { resourceId: row.resource_id };
    },

    /** Stores the reply to replay; only the attempt that holds the key can complete it. */
    complete: (c: Completion): Promise<void> => completions.submit(c),

    /**
     * The attempt failed. A key that made its resource is left `interrupted`, so the next retry
     * resumes that resource at once; a key that made nothing is forgotten, so a retry starts
     * afresh (even with another body: nothing was promised).
     */
    async fail(claim: IdempotencyClaim): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('idempotency_keys')
          .set({ state: 'interrupted' })
          .where((eb) => eb.and(heldBy(claim)))
          .where('resource_id', 'is not', null)
          .execute();
        await trx
          .deleteFrom('idempotency_keys')
          .where((eb) => eb.and(heldBy(claim)))
          .where('resource_id', 'is', null)
          .execute();
      });
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
