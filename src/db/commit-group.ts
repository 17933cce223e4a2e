import { type CompiledQuery, type QueryResult, sql, type Transaction } from 'kysely';
import type { Database, Db } from './database.js';
import { dialectOf } from './dialect-of.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Waiting {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface CommitGroupStats {
  /** Transactions committed (or rolled back) by the group. */
  commits: number;
  /** Pieces of work those transactions carried. */
  works: number;
}

export interface CommitGroup {
  run<T>(work: Work<T>): Promise<T>;
  stats(): CommitGroupStats;
}

/**
 * Group commit across writers, for SQLite. Each batcher already puts the requests that arrive
 * together into one transaction; but order creation has four such writes per order (the
 * Idempotency-Key claim, the order, its prepay_id, the key's reply), a v3 notification two, a
 * webhook delivery three, and each of those batches used to commit on its own, one WAL sync
 * each. Here the pieces of work that are ready together share one BEGIN IMMEDIATE … COMMIT:
 *
 * - each piece runs in a SAVEPOINT of its own; one that throws is rolled back to it alone and its
 *   caller gets the error, while the others commit (a lone piece needs no savepoint);
 * - every caller resolves only after the shared COMMIT returned, so "acknowledged ⇒ durable" is
 *   unchanged; if the COMMIT fails, every piece fails with it and nothing was written;
 * - one group at a time: work that arrives while a group commits waits for the next one, which
 *   is how the groups grow under load (SQLite has one writer, so nothing waits longer than it did).
 *
 * A piece must use only the transaction it is given: on SQLite's single connection a query on
 * `db` inside it would wait for the group's own commit.
 *
 * PostgreSQL has many connections and row locks: there, merging writers' transactions would only
 * add lock waits, so `writeTransaction` gives each piece a transaction of its own.
 *
 * @example
 * const order = await writeTransaction(db, (trx) => trx.insertInto('orders').values(row).returningAll().executeTakeFirstOrThrow());
 */
export function createCommitGroup(db: Db): CommitGroup {
  let queue: Waiting[] = [];
  let running = false;
  let scheduled = false;
  const stats: CommitGroupStats = { commits: 0, works: 0 };

  // setImmediate: every batcher whose flush is due in this turn of the event loop queues first.
  function schedule(): void {
    if (scheduled || running || queue.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  }

  async function flush(): Promise<void> {
    scheduled = false;
    if (running || queue.length === 0) return;
    const group = queue;
    queue = [];
    running = true;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        if (group.length === 1) {
          outcomes.push({ ok: true, value: await group[0]!.work(trx) });
          return;
        }
        for (const [i, waiting] of group.entries()) {
          const name = sql.raw(`work_${i}`);
          await sql`savepoint ${name}`.execute(trx);
          try {
            const value = await waiting.work(trx);
            await sql`release ${name}`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to ${name}`.execute(trx);
            await sql`release ${name}`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
      });
      stats.commits += 1;
      stats.works += group.length;
      group.forEach((waiting, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome.error);
      });
    } catch (error) {
      // BEGIN or COMMIT failed, or the lone piece threw: nothing of this group was written.
      for (const waiting of group) waiting.reject(error);
    } finally {
      running = false;
      schedule();
    }
  }

  return {
    run<T>(work: Work<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * How many batches of one kind a process keeps in flight: 1 on SQLite (one connection, and the
 * commit group merges them anyway); 2 on PostgreSQL. Fewer batches in flight make each one larger,
 * and every statement is a round trip: on the benchmark's machine (service and PostgreSQL on one
 * host) 1 and 2 cost 760–980 µs of CPU per notification where 4 cost 1,080–1,580
 * (docs/performance.md). 2 rather than 1 so that one batch waiting on a row lock (the reconciler,
 * another instance) does not hold up every other notification of this process.
 */
export function batchesInFlight(dialect: 'sqlite' | 'postgres'): number {
  return dialect === 'postgres' ? 2 : 1;
}

const groups = new WeakMap<Db, CommitGroup>();

/** The commit group of a SQLite database (one per Kysely instance, so one per file in a process). */
export function commitGroupOf(db: Db): CommitGroup {
  let group = groups.get(db);
  if (!group) {
    group = createCommitGroup(db);
    groups.set(db, group);
  }
  return group;
}

/**
 * Runs `work` in a write transaction that commits before this resolves: on SQLite shared with
 * the other writes ready at the same moment (createCommitGroup), on PostgreSQL its own.
 */
export function writeTransaction<T>(db: Db, work: Work<T>): Promise<T> {
  if (dialectOf(db) === 'sqlite') return commitGroupOf(db).run(work);
  return db.transaction().execute(work);
}

/**
 * One write statement, committed before this resolves: {@link writeTransaction} on SQLite (so it
 * shares the commit group's fsync), and on PostgreSQL the statement alone, which is atomic and
 * durable by itself: one round trip where BEGIN, the statement and COMMIT were three.
 *
 * @example
 * await writeStatement(db, insertNotifications(db, 'postgres', rows));
 */
export function writeStatement<R>(db: Db, statement: CompiledQuery): Promise<QueryResult<R>> {
  if (dialectOf(db) === 'sqlite') return commitGroupOf(db).run((trx) => trx.executeQuery<R>(statement));
  return db.executeQuery<R>(statement);
}
