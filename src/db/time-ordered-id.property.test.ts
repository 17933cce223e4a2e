import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeOrderedEventId, timeOrderedUuid } from './time-ordered-id.js';

/**
 * What the ids promise: the standard form, the time they were made readable in their first 48
 * bits, order by time across milliseconds (the property the indexes rely on), and randomness
 * within one millisecond. The UUID form is checked against RFC 9562's layout bit by bit, not
 * against our own formatter.
 */
const time = fc.integer({ min: 0, max: 2 ** 48 - 1 });

function uuidBits(id: string): { ms: number; version: number; variant: number } {
  const hex = id.replaceAll('-', '');
  return {
    ms: Number.parseInt(hex.slice(0, 12), 16),
    version: Number.parseInt(hex[12]!, 16),
    variant: Number.parseInt(hex[16]!, 16) >> 2,
  };
}

describe('timeOrderedUuid', () => {
  it('is a lowercase 8-4-4-4-12 UUID of version 7 and variant 10 carrying its time', () => {
    fc.assert(
      fc.property(time, (ms) => {
        const id = timeOrderedUuid(ms);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(uuidBits(id)).toEqual({ ms, version: 7, variant: 0b10 });
      }),
    );
  });

  it('sorts as text in the order of the milliseconds it was made in', () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        fc.pre(a !== b);
        const [early, late] = a < b ? [a, b] : [b, a];
        expect(timeOrderedUuid(early) < timeOrderedUuid(late)).toBe(true);
      }),
    );
  });

  it('differs within one millisecond, in its random part only', () => {
    const ids = Array.from({ length: 10_000 }, () => timeOrderedUuid(1_764_633_600_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(0, 13))).size).toBe(1);
    // The 74 random bits vary: every hex digit after the version takes several values.
    for (const at of [15, 16, 17, 20, 35]) {
      expect(new Set(ids.map((id) => id[at])).size).toBeGreaterThan(3);
    }
  });

  it('refuses a time that 48 bits of milliseconds cannot hold', () => {
    for (const bad of [-1, 2 ** 48, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => timeOrderedUuid(bad)).toThrow(RangeError);
    }
  });
});

describe('timeOrderedEventId', () => {
  it('keeps the evt_ and 24 hex form, its time in the first 12 digits, ordered by time', () => {
    fc.assert(
      fc.property(time, time, (a, b) => {
        const id = timeOrderedEventId(a);
        expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
        expect(Number.parseInt(id.slice(4, 16), 16)).toBe(a);
        if (a < b) expect(id < timeOrderedEventId(b)).toBe(true);
      }),
    );
  });

  it('differs within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => timeOrderedEventId(1_764_633_600_000));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
