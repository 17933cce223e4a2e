export interface BatcherOptions<I, R> {
  /** Does a whole batch's work: one result per item, in the items' order. */
  run(items: I[]): Promise<R[]>;
  /** Items run in ascending key order, so concurrent batches lock rows in one order (no deadlock). */
  key?(item: I): string;
  /** At most this many items in one batch. */
  maxBatch?: number;
  /** Batches in flight at once: 1 for SQLite (one connection), 2 for PostgreSQL (batchesInFlight in src/db/commit-group.ts). */
  maxConcurrent?: number;
}

export interface Batcher<I, R> {
  /** Queues `item` for the next batch; settles with its own result or error once that batch is done. */
  submit(item: I): Promise<R>;
}

interface Queued<I, R> {
  item: I;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/**
 * Groups work that arrives while the database is busy, so N concurrent requests cost one
 * statement or one transaction instead of N. The store uses it for the payment notification:
 * one SELECT … IN for the look-ups, and one transaction (group commit) for the updates, each
 * caller resolving only after that transaction has committed, so durability is unchanged.
 *
 * Why: with SQLite's synchronous=FULL every commit is an fsync that blocks the event loop, and
 * on PostgreSQL every statement is a round trip; per notification, both dominate the CPU spent.
 *
 * If a batch of several items fails, each item runs again in a batch of its own: a failing item
 * fails alone, exactly as it would have without grouping. `run` must therefore be safe to repeat
 * after a failure (a rolled-back transaction is).
 *
 * @example
 * const reads = createBatcher({ run: (ids: string[]) => lookUp(ids) });
 * const [a, b] = await Promise.all([reads.submit('a'), reads.submit('b')]); // one lookUp(['a', 'b'])
 */
export function createBatcher<I, R>(options: BatcherOptions<I, R>): Batcher<I, R> {
  const { run, key } = options;
  const maxBatch = options.maxBatch ?? 100;
  const maxConcurrent = options.maxConcurrent ?? 1;
  const queue: Queued<I, R>[] = [];
  let running = 0;
  let scheduled = false;

  // setImmediate runs after the event loop has handled the I/O that is ready, so every request
  // that arrived during the previous batch has queued its item by the time the next one is taken.
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

  async function runAlone(queued: Queued<I, R>): Promise<void> {
    try {
      const [result] = await run([queued.item]);
      queued.resolve(result as R);
    } catch (err) {
      queued.reject(err);
    }
  }

  async function runBatch(batch: Queued<I, R>[]): Promise<void> {
    if (batch.length === 1) return runAlone(batch[0]!);
    if (key) {
      batch.sort((a, b) => {
        const [x, y] = [key(a.item), key(b.item)];
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    let results: R[];
    try {
      results = await run(batch.map((q) => q.item));
    } catch {
      // Rare (a conflict, a constraint): find out which item it was by running each alone.
      for (const queued of batch) await runAlone(queued);
      return;
    }
    batch.forEach((queued, i) => {
      queued.resolve(results[i] as R);
    });
  }

  return {
    submit(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
