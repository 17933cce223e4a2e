/**
 * One queue per order: the tasks of one key run one after another, in the order they arrive,
 * while tasks of different keys run at the same time. The notifier keys it by order, so one
 * order's notification attempts (payment and refunds alike) never overlap, and a merchant that
 * hangs on one order holds back no other order.
 */
export interface OrderQueues {
  /**
   * Runs `task` once every earlier task of `key` has finished; `onQueued` is called at once if
   * it has to wait. Resolves when `task` has run.
   */
  run(key: string, task: () => Promise<void>, onQueued: () => void): Promise<void>;
  /** Keys with a task running or waiting. */
  busy(): number;
}

/**
 * @example
 * const queues = createOrderQueues();
 * void queues.run('order-1', slowAttempt, () => undefined);
 * void queues.run('order-1', nextAttempt, () => console.log('queued')); // logs 'queued'
 * void queues.run('order-2', otherAttempt, () => undefined); // starts at once
 */
export function createOrderQueues(): OrderQueues {
  const tails = new Map<string, Promise<void>>();
  return {
    async run(key, task, onQueued) {
      const before = tails.get(key);
      if (before) onQueued();
      const mine = (before ?? Promise.resolve()).then(task);
      const tail = mine.catch(() => undefined);
      tails.set(key, tail);
      try {
        await mine;
      } finally {
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
    busy: () => tails.size,
  };
}
