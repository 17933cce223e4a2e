import type { Clock } from '../clock.js';

/**
 * The simulator's clock: real time plus an offset, with a scheduler of due tasks.
 *
 * A task fires when real time reaches it (unless the clock is frozen) and also as soon as
 * {@link SimClock.advance} moves time past it. Due tasks run concurrently, like WeChat's
 * notifications for different orders: one slow task never holds back another (whoever needs
 * tasks in sequence, such as one order's notification attempts, keeps its own queue). `advance`
 * steps time to the next due task only once every running task has finished, so a retry
 * scheduled by one attempt is itself fired, attempt by attempt and in order, within the same
 * `advance`, and on a frozen clock `now()` during a task is the task's due time, which is what a
 * notification records as its send time.
 */
export interface SimClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every task that falls due on the way, in order; time moves
   * on to the next due task only when no task is running.
   */
  advance(ms: number): Promise<number>;
  /** Runs `task` once the clock reaches `atMs`; a time already past runs it as soon as possible. */
  schedule(atMs: number, task: () => Promise<void> | void): ScheduledTask;
  /** Resolves once no task is running and none is due. */
  settle(): Promise<void>;
  /** How far the clock is ahead of its base (real) time, in ms. */
  offsetMs(): number;
  /**
   * Puts the clock back where it started relative to real time, undoing every `advance`. Tasks
   * already waiting keep their due times, so they simply fire later.
   */
  resetOffset(): number;
  /** Number of tasks waiting. */
  pending(): number;
  /** Cancels every waiting task; the clock keeps running. */
  clear(): void;
  /** Cancels every task and stops the real-time timer. */
  close(): void;
}

export interface ScheduledTask {
  readonly dueAt: number;
  cancel(): void;
}

export interface SimClockOptions {
  /** Where "real" time comes from. Default `Date.now`. */
  base?: Clock;
  /** Start the clock at this epoch ms (the offset is chosen to match). */
  startMs?: number;
  /** No passage of real time: only `advance` moves the clock. Tests use this. */
  frozen?: boolean;
  /** Called when a task throws; a task failure never stops the scheduler. */
  onError?: (error: unknown) => void;
}

interface Entry {
  dueAt: number;
  seq: number;
  run: () => Promise<void> | void;
}

/**
 * @example
 * const clock = createSimClock({ startMs: Date.UTC(2024, 0, 1), frozen: true });
 * clock.schedule(clock.now() + 15_000, () => console.log('retry'));
 * await clock.advance(15_000); // logs 'retry'
 */
export function createSimClock(options: SimClockOptions = {}): SimClock {
  const frozenAt = options.startMs ?? Date.now();
  const base: Clock = options.frozen ? { now: () => frozenAt } : (options.base ?? { now: () => Date.now() });
  const initialOffset = options.startMs === undefined ? 0 : options.startMs - base.now();
  let offset = initialOffset;
  const queue: Entry[] = [];
  /** Tasks started and not yet finished. */
  const running = new Set<Promise<void>>();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  // Calls of `advance` take turns, so two of them never move time under each other.
  let advancing: Promise<void> = Promise.resolve();
  const now = (): number => base.now() + offset;

  const takeDue = (limit: number): Entry | undefined => {
    let best = -1;
    for (let i = 0; i < queue.length; i++) {
      const e = queue[i]!;
      if (e.dueAt > limit) continue;
      const b = queue[best];
      if (!b || e.dueAt < b.dueAt || (e.dueAt === b.dueAt && e.seq < b.seq)) best = i;
    }
    return best < 0 ? undefined : queue.splice(best, 1)[0];
  };

  const start = (entry: Entry): void => {
    const done: Promise<void> = (async () => {
      try {
        await entry.run();
      } catch (error) {
        options.onError?.(error);
      }
    })().finally(() => running.delete(done));
    running.add(done);
  };

  /** Starts every task due by now, in due order, without waiting for any of them. */
  const launchDue = (): void => {
    for (let e = takeDue(now()); e && !closed; e = takeDue(now())) start(e);
  };

  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed || options.frozen || queue.length === 0) return;
    const earliest = Math.min(...queue.map((e) => e.dueAt));
    // setTimeout caps at 2^31-1 ms; a later task is re-armed when that timer fires.
    const wait = Math.min(Math.max(0, earliest - now()), 2_147_483_647);
    timer = setTimeout(() => {
      launchDue();
      arm();
    }, wait);
    timer.unref();
  };

  /** Waits for running tasks, starting those that fall due meanwhile, until none runs. */
  const quiesce = async (): Promise<void> => {
    launchDue();
    while (running.size > 0 && !closed) {
      await Promise.race(running);
      launchDue();
    }
  };

  return {
    now,
    offsetMs: () => offset,
    resetOffset() {
      offset = initialOffset;
      arm();
      return now();
    },
    pending: () => queue.length,
    schedule(atMs, run) {
      const entry: Entry = { dueAt: atMs, seq: seq++, run };
      if (!closed) queue.push(entry);
      if (atMs <= now()) launchDue();
      else arm();
      return {
        dueAt: atMs,
        cancel() {
          const i = queue.indexOf(entry);
          if (i >= 0) queue.splice(i, 1);
          arm();
        },
      };
    },
    async advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) {
        throw new RangeError(`advance() takes a finite, non-negative number of ms (got ${ms})`);
      }
      const turn = advancing.then(async () => {
        const target = now() + ms;
        for (;;) {
          await quiesce();
          if (closed) break;
          const next = Math.min(...queue.filter((e) => e.dueAt <= target).map((e) => e.dueAt));
          if (!Number.isFinite(next)) break;
          if (next > now()) offset += next - now();
        }
        if (target > now()) offset += target - now();
        arm();
      });
      advancing = turn.catch(() => undefined);
      await turn;
      return now();
    },
    async settle() {
      await quiesce();
      arm();
    },
    clear() {
      queue.length = 0;
      arm();
    },
    close() {
      closed = true;
      queue.length = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
