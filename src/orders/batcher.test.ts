import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.js';

describe('batcher', () => {
  it('hands items submitted together to one run, in key order, and gives each its own result', async () => {
    const runs: string[][] = [];
    const batcher = createBatcher({
      key: (s: string) => s,
      async run(items: string[]) {
        runs.push(items);
        return items.map((s) => s.toUpperCase());
      },
    });
    const results = await Promise.all(['c', 'a', 'b'].map((s) => batcher.submit(s)));
    expect(results).toEqual(['C', 'A', 'B']);
    expect(runs).toEqual([['a', 'b', 'c']]);
  });

  it('reruns each item of a failed batch alone, so only the failing one fails', async () => {
    const runs: number[][] = [];
    const batcher = createBatcher({
      async run(items: number[]) {
        runs.push(items);
        if (items.includes(2)) throw new Error(`batch with 2 refused`);
        return items.map((n) => n * 10);
      },
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('batch with 2 refused') },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(runs).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('keeps at most maxConcurrent batches in flight and queues the rest for the next batch', async () => {
    let inFlight = 0;
    let most = 0;
    const sizes: number[] = [];
    const batcher = createBatcher({
      maxConcurrent: 1,
      maxBatch: 3,
      async run(items: number[]) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        sizes.push(items.length);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return items;
      },
    });
    const results = await Promise.all(Array.from({ length: 7 }, (_, i) => batcher.submit(i)));
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(1);
    expect(sizes).toEqual([3, 3, 1]);
  });
});
