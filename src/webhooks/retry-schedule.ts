/** Deliveries are retried for this long after the event (or a resend) before they end as failed. */
export const DELIVERY_WINDOW_MS = 3 * 24 * 3600 * 1000;

const FIRST_RETRY_MS = 10_000;
const LONGEST_WAIT_MS = 6 * 3600 * 1000;

/**
 * How long to wait after the `failures`-th failed attempt: 10 s, doubling each time up to 6 h,
 * each wait spread by ±25% (`random` in [0, 1)) so the retries of many deliveries that failed
 * together (a receiver that was down) do not come back at one instant. About 20 attempts fit
 * in the 3-day window.
 *
 * @example
 * retryDelayMs(1, () => 0.5) // 10_000
 * retryDelayMs(4, () => 0.5) // 80_000
 */
export function retryDelayMs(failures: number, random: () => number): number {
  const base = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), LONGEST_WAIT_MS);
  return Math.round(base * (0.75 + 0.5 * random()));
}
