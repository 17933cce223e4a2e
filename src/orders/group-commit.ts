import type { Transaction } from 'kysely';
import type { Database, Db } from '../db/database.js';

type Tx = Transaction<Database>;

export interface GroupCommitOptions {
  /** At most this many units in one transaction. */
  maxBatch?: number;
  /** Transactions in flight at once: 1 for SQLite (one connection), a few for a PostgreSQL pool. */
  maxConcurrent?: number;
}

interface Unit {
  /** Units run in ascending key order, so concurrent batches lock rows in one order (no deadlock). */
  key: string;
  work(trx: Tx): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;

/**
 * Group commit: units of work that arrive while the database is busy run together in one
 * transaction, and each caller's promise settles only after that transaction has COMMITTED, so
 * durability is exactly that of a transaction per unit.
 *
 * Why: with SQLite's synchronous=FULL a commit is an fsync (about 6 ms on the project's machine,
 * blocking the event loop), so a transaction per notification caps a process at ~150/s whatever
 * the CPU. One commit per batch pays the fsync once for every notification that arrived meanwhile.
 *
 * If any unit throws, the batch rolls back and each of its units runs again in a transaction of
 * its own: a failing unit fails alone, exactly as it would have without grouping. Units must
 * therefore touch nothing but the database.
 *
 * @example
 * const group = createGroupCommit(db, { maxConcurrent: 1 });
 * await group.run(orderId, (trx) => trx.updateTable('orders').set({ status: 'PAID' }).where('id', '=', orderId).execute());
 */
export function createGroupCommit(db: Db, options: GroupCommitOptions = {}) {
  const maxBatch = options.maxBatch ?? 100;
  const maxConcurrent = options.maxConcurrent ?? 1;
  const queue: Unit[] = [];
  let running = 0;
  let scheduled = false;

  // setImmediate runs after the event loop has handled the I/O that is ready, so every request
  // that arrived during the previous commit has queued its unit by the time a batch is taken.
  function schedule(): void {
    if (scheduled || running >= maxConcurrent || queue.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    if (running >= maxConcurrent || queue.length === 0) return;
    const batch = queue.splice(0, maxBatch);
    running += 1;
    schedule();
    void runBatch(batch).finally(() => {
      running -= 1;
      schedule();
    });
  }

  async function runAlone(unit: Unit): Promise<void> {
    try {
      unit.resolve(await db.transaction().execute((trx) => unit.work(trx)));
    } catch (err) {
      unit.reject(err);
    }
  }

  async function runBatch(batch: Unit[]): Promise<void> {
    if (batch.length === 1) return runAlone(batch[0]!);
    batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let results: unknown[];
    try {
      results = await db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.work(trx));
        return out;
      });
    } catch {
      // Rare (a conflict, a constraint): find out which unit it was by running each alone.
      for (const unit of batch) await runAlone(unit);
      return;
    }
    batch.forEach((unit, i) => {
      unit.resolve(results[i]);
    });
  }

  return {
    /** Runs `work` in a transaction shared with other units; resolves after that transaction commits. */
    run<T>(key: string, work: (trx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ key, work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
  };
}
