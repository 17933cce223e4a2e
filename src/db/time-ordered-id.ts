import { randomBytesFromPool } from '../random-pool.js';

/**
 * Keys that sort by the time they were made, for rows that are mostly written and read while
 * they are new (orders, refunds, users, webhook events).
 *
 * A random key (a v4 UUID) lands on a random leaf of every B-tree index it is in: the primary key
 * and each table that refers to the row (`order_events`, `payment_evidence`, `webhook_events`,
 * `refunds`). A batch of n payments then dirties about n leaves per index, and each one is written
 * to the log at commit (the SQLite WAL; PostgreSQL's full-page writes). A key that starts with the
 * time lands at the right-hand end of those indexes, where the batch's other new keys are, so the
 * same batch dirties a few pages, and they stay in the cache as the database grows.
 * docs/storage.md, "Keys that sort by time", has the measurement.
 *
 * Nothing may depend on the order beyond locality: two ids made in the same millisecond sort
 * randomly, and a clock that steps back makes an older-looking id. Uniqueness never rests on the
 * time: 74 (UUID) or 48 (event id) random bits within each millisecond, and the tables' unique
 * constraints refuse the impossible rest.
 */

/** Largest time that fits in 48 bits (the year 10889). */
const MAX_MS = 2 ** 48 - 1;

function timeHex(nowMs: number): string {
  const ms = Math.floor(nowMs);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
    throw new RangeError(`cannot make a time-ordered id for ${nowMs}: not a time in 48 bits of milliseconds`);
  }
  return ms.toString(16).padStart(12, '0');
}

/**
 * A version 7 UUID (RFC 9562, section 5.7): 48 bits of Unix time in milliseconds, big-endian,
 * then the version 7, 12 random bits, the variant `10` and 62 random bits. Looks like any other
 * UUID (8-4-4-4-12 lowercase hex), so clients that stored v4 ids see no change of format.
 *
 * @example
 * timeOrderedUuid(Date.UTC(2026, 11, 2)) // '01a2340d-0c00-7c1e-9a3b-2f6d8e41c7a0' (random after the time)
 */
export function timeOrderedUuid(nowMs: number): string {
  const time = timeHex(nowMs);
  const random = randomBytesFromPool(10);
  random[0] = 0x70 | (random[0]! & 0x0f); // version 7 over the high nibble of rand_a
  random[2] = 0x80 | (random[2]! & 0x3f); // variant 10 over the top two bits of rand_b
  const r = random.toString('hex');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-${r.slice(0, 4)}-${r.slice(4, 8)}-${r.slice(8, 20)}`;
}

/**
 * `evt_` and 24 lowercase hex characters, as before: 12 of time in milliseconds, then 12 random
 * (48 bits). The form webhook receivers and `weapp-pay listen` already parse.
 */
export function timeOrderedEventId(nowMs: number): string {
  return `evt_${timeHex(nowMs)}${randomBytesFromPool(6).toString('hex')}`;
}
