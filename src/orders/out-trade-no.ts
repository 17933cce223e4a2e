import { type Clock, systemClock } from '../clock.js';
import { randomFromAlphabet } from '../random-pool.js';

/** Digits in ASCII order, so ids sort lexicographically in the order they were made. */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TIME_DIGITS = 8; // 62^8 ms reaches the year 8900
const COUNTER_DIGITS = 4; // 62^4 = 14,776,336 ids per millisecond per generator
const COUNTER_LIMIT = 62 ** COUNTER_DIGITS;
const RANDOM_NODE_DIGITS = 12; // ~71 bits: two live processes drawing the same node part is negligible
const INSTANCE_ID = /^[0-9A-Za-z]{1,12}$/;
/** Every two-digit base62 string: the counter is two lookups instead of a division loop per id. */
const PAIR_LIMIT = 62 * 62;
const PAIRS = Array.from({ length: PAIR_LIMIT }, (_, i) => toBase62(i, 2));

export interface OutTradeNoOptions {
  /**
   * A stable name for this instance (1–12 of [0-9A-Za-z]), unique among instances sharing one
   * merchant account; for example a pod ordinal. Without it each generator draws 12 random
   * base62 digits, which is unique enough that no coordination is needed.
   */
  instanceId?: string;
  clock?: Clock;
}

/**
 * Makes out_trade_no values: time (8) + counter (4) + node (12 random digits, or the instanceId),
 * all [0-9A-Za-z], 13–24 characters, inside WeChat's 6–32.
 *
 * Unlike "timestamp + random number" (which collides when orders share a millisecond), two ids from
 * one generator never collide: (time, counter) strictly increases, even when the clock stands
 * still or steps back, because the time part never goes below the last one used and a full
 * counter borrows the next millisecond. Ids from different generators differ in the node part.
 * The unique index on orders.out_trade_no remains the last word.
 *
 * @example
 * const nextOutTradeNo = createOutTradeNoGenerator();
 * nextOutTradeNo(); // '0OnSZyAC0000p3Xc9LkQ2bZr', then '0OnSZyAC0001p3Xc9LkQ2bZr', ...
 */
export function createOutTradeNoGenerator(options: OutTradeNoOptions = {}): () => string {
  const { instanceId, clock = systemClock } = options;
  if (instanceId !== undefined && !INSTANCE_ID.test(instanceId)) {
    throw new RangeError(
      `out_trade_no instanceId must be 1 to 12 of [0-9A-Za-z] (got ${JSON.stringify(instanceId)})`,
    );
  }
  const node = instanceId ?? randomBase62(RANDOM_NODE_DIGITS);
  let lastMs = -1;
  let timePart = '';
  let counter = 0;
  return () => {
    const now = Math.floor(clock.now());
    if (now > lastMs) {
      lastMs = now;
      counter = 0;
      timePart = toBase62(lastMs, TIME_DIGITS);
    } else if (counter === COUNTER_LIMIT) {
      // 14.7 million ids inside one millisecond: borrow the next one rather than wrap around.
      lastMs += 1;
      counter = 0;
      timePart = toBase62(lastMs, TIME_DIGITS);
    }
    const id = timePart + PAIRS[Math.floor(counter / PAIR_LIMIT)] + PAIRS[counter % PAIR_LIMIT] + node;
    counter += 1;
    return id;
  };
}

/** WeChat's out_trade_no rule (《统一下单》); the generator uses only the alphanumeric part. */
export const OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;

function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  if (rest !== 0) throw new RangeError(`${value} does not fit in ${width} base62 digits`);
  return out;
}

/** Uniform base62 digits from crypto randomness. */
function randomBase62(length: number): string {
  return randomFromAlphabet(BASE62, length);
}
