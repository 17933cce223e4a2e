/**
 * Time is a dependency. Everything that compares against "now" (signature windows, order
 * expiry, login-code lifetime, the reconciler, the simulator's retry schedule) takes a Clock,
 * so tests move time explicitly and never sleep.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ManualClock extends Clock {
  /** Moves the clock forward; a negative value is refused so time never runs backwards by accident. */
  advance(ms: number): void;
  set(epochMs: number): void;
}

/**
 * A clock that only moves when told to.
 *
 * @example
 * const clock = createManualClock(Date.UTC(2024, 0, 1, 4, 5, 30));
 * clock.advance(15_000);
 */
export function createManualClock(startMs: number = Date.UTC(2024, 0, 1, 4, 5, 30)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance() takes a non-negative number of ms (got ${ms})`);
      current += ms;
    },
    set(epochMs) {
      current = epochMs;
    },
  };
}
