/**
 * What making one id costs: the event id as it was made before (12 fresh random bytes from the
 * CSPRNG per id), the same with a per-id `randomFillSync`, and src/db/time-ordered-id.ts (bytes
 * from a pool refilled 4 KiB at a time), beside Node's own pooled `randomUUID`. Two rounds.
 *
 *   node --import tsx bench/id-cost.ts
 */
import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { timeOrderedEventId, timeOrderedUuid } from '../src/db/time-ordered-id.js';

const N = 200_000;

function time(name: string, make: () => string): void {
  make();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) make();
  const us = Number(process.hrtime.bigint() - start) / N / 1000;
  console.log(`${name.padEnd(44)} ${us.toFixed(2)} µs`);
}

for (let round = 0; round < 2; round++) {
  time('evt_ + randomBytes(12) per id (before)', () => `evt_${randomBytes(12).toString('hex')}`);
  time('evt_ + time + randomFillSync(6) per id', () => {
    const random = randomFillSync(Buffer.alloc(6)).toString('hex');
    return `evt_${Date.now().toString(16).padStart(12, '0')}${random}`;
  });
  time('timeOrderedEventId (pooled)', () => timeOrderedEventId(Date.now()));
  time('randomUUID (Node, pooled, v4)', () => randomUUID());
  time('timeOrderedUuid (pooled, v7)', () => timeOrderedUuid(Date.now()));
}
