import type { Clock } from '../clock.js';

/**
 * A fixed-window counter per key (the client address for logins). In memory, per instance:
 * it blunts bursts from one address; it is not a global quota.
 */
export function createRateLimiter(options: {
  limit: number;
  windowMs: number;
  clock: Clock;
  maxKeys?: number;
}) {
  const windows = new Map<string, { start: number; count: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  return {
    /** Counts one hit; returns 0 when allowed, else the seconds until the window resets. */
    hit(key: string): number {
      const now = options.clock.now();
      let w = windows.get(key);
      if (!w || now - w.start >= options.windowMs) {
        if (windows.size >= maxKeys) {
          for (const [k, old] of windows) if (now - old.start >= options.windowMs) windows.delete(k);
        }
        w = { start: now, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      if (w.count <= options.limit) return 0;
      return Math.max(1, Math.ceil((w.start + options.windowMs - now) / 1000));
    },
  };
}
