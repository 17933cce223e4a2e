import { describe, expect, it } from 'vitest';
import { cachedFor } from './cached-for.js';

describe('cachedFor', () => {
  it('answers from the last load within the time, and loads again after it', async () => {
    let time = 0;
    let loads = 0;
    const counts = cachedFor(
      5000,
      async () => ++loads,
      () => time,
    );
    expect(await counts()).toBe(1);
    time = 4999;
    expect(await counts()).toBe(1);
    time = 5000;
    expect(await counts()).toBe(2);
  });

  it('shares one running load between callers, and keeps no failure', async () => {
    let loads = 0;
    let fail = true;
    const counts = cachedFor(5000, async () => {
      loads += 1;
      if (fail) throw new Error('database down');
      return loads;
    });
    await expect(Promise.all([counts(), counts()])).rejects.toThrow('database down');
    expect(loads).toBe(1);
    fail = false;
    expect(await Promise.all([counts(), counts()])).toEqual([2, 2]);
    expect(loads).toBe(2);
  });
});
