import { describe, expect, it } from 'vitest';
import { randomBytesFromPool, randomFromAlphabet } from './random-pool.js';

describe('randomBytesFromPool', () => {
  it('never hands out the same bytes twice, across refills of odd sizes', () => {
    const seen = new Set<string>();
    // 37 does not divide 4096: many calls straddle the end of the pool.
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytesFromPool(37);
      expect(bytes).toHaveLength(37);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('returns a copy: changing it does not change what comes next', () => {
    const first = randomBytesFromPool(16);
    first.fill(0);
    const next = randomBytesFromPool(16);
    expect(next.equals(Buffer.alloc(16))).toBe(false);
  });

  it('refuses counts it cannot serve', () => {
    expect(() => randomBytesFromPool(4097)).toThrow(RangeError);
    expect(() => randomBytesFromPool(-1)).toThrow(RangeError);
    expect(() => randomBytesFromPool(1.5)).toThrow(RangeError);
  });
});

describe('randomFromAlphabet', () => {
  it('draws only from the alphabet, exactly as many characters as asked', () => {
    const text = randomFromAlphabet('abc', 500);
    expect(text).toMatch(/^[abc]{500}$/);
    expect(randomFromAlphabet('0123456789', 1)).toMatch(/^\d$/);
  });

  it('draws every character of a 62-character alphabet equally often', () => {
    // 256 = 4 × 62 + 8: without rejection sampling the first eight characters would come 25 %
    // more often than the others. 310,000 draws put each count near 5,000 (±3 % at 2 sigma).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const counts = new Map<string, number>();
    const text = randomFromAlphabet(alphabet, 310_000);
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const values = [...counts.values()];
    expect(Math.max(...values) / Math.min(...values)).toBeLessThan(1.15);
  });

  it('takes its bytes from the source it is given (secrets pass the CSPRNG itself)', () => {
    const asked: number[] = [];
    const source = (count: number) => {
      asked.push(count);
      return Buffer.from(Array.from({ length: count }, (_, i) => [0, 1, 255][i % 3] as number));
    };
    // Bytes 0, 1, 255, 0, 1, …: for three characters the limit is 255 (the largest multiple of 3
    // up to 256), so each 255 is dropped and the rest map to a, b.
    expect(randomFromAlphabet('abc', 4, source)).toBe('abab');
    expect(asked).toEqual([8]);
  });

  it('refuses a length or an alphabet it cannot serve', () => {
    expect(() => randomFromAlphabet('ab', 0)).toThrow(RangeError);
    expect(() => randomFromAlphabet('a', 5)).toThrow(RangeError);
  });
});
