import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for values that travel in the clear (ids, nonces, order numbers), taken from a
 * pool refilled 4 KiB at a time, as Node's own `randomUUID` does: one call into the CSPRNG per
 * few hundred values instead of one per value. A call for 64 bytes straight from `randomBytes`
 * cost this machine 4–5 µs, and an order took three of them (docs/performance.md).
 *
 * Secrets (session tokens, API keys, webhook secrets) do not come from the pool: they are drawn
 * straight from the CSPRNG, so no secret-to-be ever waits in this buffer.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolUsed = POOL_BYTES;

/**
 * `count` fresh random bytes (at most 4096), never handed out twice.
 *
 * @example
 * randomBytesFromPool(10).length // 10
 */
export function randomBytesFromPool(count: number): Buffer {
  if (!Number.isInteger(count) || count < 0 || count > POOL_BYTES) {
    throw new RangeError(`random byte count must be 0 to ${POOL_BYTES} (got ${count})`);
  }
  if (poolUsed + count > POOL_BYTES) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolUsed, poolUsed + count));
  poolUsed += count;
  return bytes;
}

/**
 * `length` characters drawn uniformly from `alphabet` (at most 256 characters), by rejection
 * sampling: a byte at or above the largest multiple of the alphabet's size is dropped, so every
 * character is equally likely. The bytes come from the pool; a secret passes `randomBytes` as
 * `source`, so that it is drawn straight from the CSPRNG.
 *
 * @example
 * randomFromAlphabet('0123456789', 6) // e.g. '402981'
 * randomFromAlphabet(BASE62, 32, randomBytes) // an API key's secret
 */
export function randomFromAlphabet(
  alphabet: string,
  length: number,
  source: (count: number) => Buffer = randomBytesFromPool,
): string {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`length must be ≥ 1 (got ${length})`);
  const size = alphabet.length;
  if (size < 2 || size > 256) throw new RangeError(`alphabet must have 2 to 256 characters (got ${size})`);
  const limit = 256 - (256 % size);
  let out = '';
  while (out.length < length) {
    const bytes = source(Math.min(POOL_BYTES, length * 2));
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const byte = bytes[i] as number;
      if (byte < limit) out += alphabet[byte % size];
    }
  }
  return out;
}
