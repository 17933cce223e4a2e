import { type QueryExecutorProvider, type RawBuilder, sql, type Transaction } from 'kysely';
import { batchesInFlight, writeStatement } from '../db/commit-group.js';
import type { Database, Db, IdempotencyKeysTable } from '../db/database.js';
import { dialectOf } from '../db/dialect-of.js';
import { type ColumnType, compiledInsert, compiledPerSizeClass, valuesRows } from '../db/size-classes.js';
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
 * completion once each. The attempts that arrive together share one statement for each, compiled
 * once per dialect and size class (size-classes.ts): on PostgreSQL every statement is a round
 * trip, and these were three per order.
 */

const held = (claim: IdempotencyClaim) => `${claim.scope}\u0000${claim.key}\u0000${claim.claimedAt}`;

/** The first item of each key, in the order the keys first appear. */
function firstOfEach<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) if (!first.has(keyOf(item))) first.set(keyOf(item), item);
  return first;
}

/**
 * The claims of a batch: insert each key, or take over a row whose time is up (its expiry is at
 * or before the claim time, `excluded.claimed_at`). A live row is left alone and not returned.
 */
const insertClaims = compiledInsert<IdempotencyKeysTable>({
  table: 'idempotency_keys',
  columns: [
    ['scope', 'text'],
    ['key', 'text'],
    ['request_hash', 'text'],
    ['state', 'text'],
    ['resource_id', 'text'],
    ['claimed_at', 'bigint'],
    ['completed_at', 'bigint'],
    ['expires_at', 'bigint'],
    ['response_status', 'integer'],
    ['response_body', 'text'],
  ],
  updateConflictsOn: {
    columns: ['scope', 'key'],
    set: Object.fromEntries(
      (
        [
          'request_hash',
          'state',
          'resource_id',
          'claimed_at',
          'completed_at',
          'expires_at',
          'response_status',
          'response_body',
        ] as const
      ).map((column) => [column, sql.ref(`excluded.${column}`)]),
    ),
    where: sql`idempotency_keys.expires_at <= excluded.claimed_at`,
  },
  returning: ['scope', 'key'],
});

/**
 * An UPDATE of the key rows a batch of attempts still hold, one statement for the batch:
 * `UPDATE idempotency_keys SET … FROM (SELECT column1 AS scope, … FROM (VALUES …)) AS batch`
 * matched on scope, key and claim time, and still in flight. The padding rows that fill a batch
 * to its size class are NULL, and NULL matches nothing.
 */
function heldRowsUpdate(
  values: readonly (readonly [string, ColumnType])[],
  set: RawBuilder<unknown>,
  more: { where?: RawBuilder<unknown>; returning?: RawBuilder<unknown> } = {},
) {
  const where = more.where ? sql` and ${more.where}` : sql``;
  const returning = more.returning ? sql` returning ${more.returning}` : sql``;
  const columns = [['scope', 'text'], ['key', 'text'], ['claimed_at', 'bigint'], ...values] as const;
  const named = columns.map(([name], i) => sql`${sql.raw(`column${i + 1}`)} as ${sql.ref(name)}`);
  const heldByBatchRow = sql`idempotency_keys.scope = batch.scope and idempotency_keys.key = batch.key
    and idempotency_keys.claimed_at = batch.claimed_at and idempotency_keys.state = 'in_flight'`;
  return compiledPerSizeClass((db: QueryExecutorProvider, size, slot) =>
    sql`update idempotency_keys set ${set}
      from (select ${sql.join(named)} from ${valuesRows(columns, size, slot)} as v) as batch
      where ${heldByBatchRow}${where}${returning}`.compile(db),
  );
}

/** Each attempt's resource, where the attempt still holds its key and no resource is recorded. */
const resourceRecords = heldRowsUpdate([['resource_id', 'text']], sql`resource_id = batch.resource_id`, {
  where: sql`idempotency_keys.resource_id is null`,
  returning: sql`idempotency_keys.scope, idempotency_keys.key, idempotency_keys.claimed_at`,
});

/** Each attempt's reply; a resource already recorded stays (the completion's is only a fallback). */
const completions = heldRowsUpdate(
  [
    ['now', 'bigint'],
    ['status', 'integer'],
    ['body', 'text'],
    ['resource_id', 'text'],
  ],
  sql`state = 'done', completed_at = batch.now, response_status = batch.status,
    response_body = batch.body,
    resource_id = coalesce(idempotency_keys.resource_id, batch.resource_id)`,
);

/** Binds a held-rows update to a batch: the claim's fields, then `cells(item)`'s. */
function bindHeld<T extends { claim: IdempotencyClaim }>(
  statement: ReturnType<typeof heldRowsUpdate>,
  db: QueryExecutorProvider,
  dialect: string,
  items: readonly T[],
  cells: (item: T) => Readonly<Record<string, unknown>>,
) {
  return statement(db, dialect, items.length).bind((i, name) => {
    const item = items[i];
    if (item === undefined) return null; // padding
    const { scope, key, claimedAt } = item.claim;
    if (name === 'scope') return scope;
    if (name === 'key') return key;
    if (name === 'claimed_at') return claimedAt;
    return cells(item)[name];
  });
}

/**
 * Records, inside the caller's transaction, which resource (order, refund) each attempt made, in
 * one statement. The resources and these pointers commit together, so a crash can never leave a
 * resource that its key does not lead to. If any attempt's claim was taken over meanwhile, this
 * throws and the caller's transaction rolls back (a batch then reruns one attempt at a time,
 * batcher.ts): the request that took the key over makes the one resource.
 * @throws {AppError} IDEMPOTENCY_KEY_IN_FLIGHT when an attempt no longer holds its key
 */
export async function recordResources(
  trx: Writer,
  records: readonly { claim: IdempotencyClaim; resourceId: string }[],
): Promise<void> {
  if (records.length === 0) return;
  const { rows } = await trx.executeQuery<{ scope: string; key: string; claimed_at: number }>(
    bindHeld(resourceRecords, trx, dialectOf<Database>(trx), records, (r) => ({ resource_id: r.resourceId })),
  );
  const recorded = new Set(
    rows.map((r) => held({ scope: r.scope, key: r.key, claimedAt: Number(r.claimed_at) })),
  );
  if (records.some((r) => !recorded.has(held(r.claim)))) {
    throw new AppError(
      'IDEMPOTENCY_KEY_IN_FLIGHT',
      'Another request took over this Idempotency-Key; retry to get its answer.',
      { retryAfter: 1 },
    );
  }
}

/** {@link recordResources} for one attempt. */
export function recordResource(trx: Writer, claim: IdempotencyClaim, resourceId: string): Promise<void> {
  return recordResources(trx, [{ claim, resourceId }]);
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
  const claims = createBatcher<Claim, boolean>({
    ...concurrency,
    key: keyOf,
    async run(items) {
      // A key claimed twice in one batch: the first claim is made, and the next finds the key
      // live, as it would one after the other (and one statement may not upsert a row twice).
      const first = firstOfEach(items, keyOf);
      const made = [...first.values()];
      // One statement: committed by itself on PostgreSQL, in the commit group on SQLite.
      const { rows } = await writeStatement<Pick<IdempotencyKeysTable, 'scope' | 'key'>>(
        db,
        insertClaims(
          db,
          dialect,
          made.map((a) => ({
            scope: a.scope,
            key: a.key,
            request_hash: a.requestHash,
            state: 'in_flight',
            resource_id: null,
            claimed_at: a.now,
            completed_at: null,
            expires_at: a.now + a.ttlMs,
            response_status: null,
            response_body: null,
          })),
        ),
      );
      const won = new Set(rows.map(keyOf));
      return items.map((item) => first.get(keyOf(item)) === item && won.has(keyOf(item)));
    },
  });

  type Completion = {
    claim: IdempotencyClaim;
    status: number;
    body: string;
    resourceId: string | null;
    now: number;
  };
  const completed = createBatcher<Completion, void>({
    ...concurrency,
    key: (c) => keyOf(c.claim),
    async run(items) {
      // One attempt completing twice at once: its first completion stands, as it would one after
      // the other (the second would find the key done).
      const distinct = [...firstOfEach(items, (c) => held(c.claim)).values()];
      await writeStatement(
        db,
        bindHeld(completions, db, dialect, distinct, (c) => ({
          now: c.now,
          status: c.status,
          body: c.body,
          resource_id: c.resourceId,
        })),
      );
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
    complete: (c: Completion): Promise<void> => completed.submit(c),

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
