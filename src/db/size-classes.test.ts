import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { compiledOnce, compiledPerSizeClass, padWithLast, range, Slot, sizeClass } from './size-classes.js';

describe('size classes', () => {
  it('rounds a batch up to the next power of two', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 100].map(sizeClass)).toEqual([1, 1, 2, 4, 4, 8, 8, 16, 128]);
  });

  it('pads with the last item, leaving the items in front unchanged', () => {
    expect(padWithLast(['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'c']);
    expect(padWithLast(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('builds once per class and binds each batch its own values in the slots', () => {
    const sizes: number[] = [];
    const statement = compiledPerSizeClass((_db: null, size, slot) => {
      sizes.push(size);
      const slots = range(size).map((i) => slot(i, 'v'));
      return CompiledQuery.raw(`select ${slots.map(() => '?').join(', ')}, ?`, [...slots, 'fixed']);
    });
    const first = statement(null, 'sqlite', 3).bind((i, key) => `${key}${i}`);
    const second = statement(null, 'sqlite', 4).bind((i) => i * 10);
    expect(first.sql).toBe('select ?, ?, ?, ?, ?');
    expect(first.parameters).toEqual(['v0', 'v1', 'v2', 'v3', 'fixed']);
    expect(second.parameters).toEqual([0, 10, 20, 30, 'fixed']);
    statement(null, 'postgres', 4);
    expect(sizes).toEqual([4, 4]);
    expect(first.parameters.some((p) => p instanceof Slot)).toBe(false);
  });

  it('compiles a fixed-shape statement once per dialect and binds named values', () => {
    let builds = 0;
    const statement = compiledOnce((_db: null, value) => {
      builds++;
      return CompiledQuery.raw('select ? where ? > ? and ?', [
        value('id'),
        value<number>('now'),
        5,
        value('id'),
      ]);
    });
    const a = statement(null, 'sqlite').bind({ id: 'u1', now: 7 });
    const b = statement(null, 'sqlite').bind({ id: 'u2', now: 8 });
    expect(a.parameters).toEqual(['u1', 7, 5, 'u1']);
    expect(b.parameters).toEqual(['u2', 8, 5, 'u2']);
    expect(builds).toBe(1);
    statement(null, 'postgres').bind({ id: 'u3', now: 9 });
    expect(builds).toBe(2);
    expect(() => statement(null, 'sqlite').bind({ id: 'u4' })).toThrow(/no value given for :now/);
  });
});
