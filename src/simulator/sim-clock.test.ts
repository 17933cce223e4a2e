import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSimClock } from './sim-clock.js';

const T0 = Date.UTC(2024, 0, 1, 4, 5, 30);

afterEach(() => {
  vi.useRealTimers();
});

describe('createSimClock', () => {
  it('stays still when frozen and moves only by advance', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    expect(clock.now()).toBe(T0);
    expect(await clock.advance(15_000)).toBe(T0 + 15_000);
    expect(clock.offsetMs()).toBe(clock.now() - T0);
  });

  it('resetOffset undoes every advance, and a waiting task fires when time reaches it again', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    const fired: number[] = [];
    await clock.advance(60_000);
    clock.schedule(T0 + 90_000, () => void fired.push(clock.now()));
    expect(clock.resetOffset()).toBe(T0);
    expect(clock.now()).toBe(T0);
    await clock.advance(89_000);
    expect(fired).toEqual([]);
    await clock.advance(1_000);
    expect(fired).toEqual([T0 + 90_000]);
  });

  it('fires due tasks in time order, each at its own due time, including tasks scheduled on the way', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    const seen: [string, number][] = [];
    clock.schedule(T0 + 30_000, () => void seen.push(['b', clock.now()]));
    clock.schedule(T0 + 10_000, () => {
      seen.push(['a', clock.now()]);
      clock.schedule(clock.now() + 5_000, () => void seen.push(['a2', clock.now()]));
    });
    clock.schedule(T0 + 30_000, () => void seen.push(['c', clock.now()]));
    await clock.advance(60_000);
    expect(seen).toEqual([
      ['a', T0 + 10_000],
      ['a2', T0 + 15_000],
      ['b', T0 + 30_000],
      ['c', T0 + 30_000],
    ]);
    expect(clock.now()).toBe(T0 + 60_000);
  });

  it('runs due tasks concurrently: a task that never ends does not hold back the next one', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    const started: string[] = [];
    let release = (): void => undefined;
    clock.schedule(T0, () => {
      started.push('slow');
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    clock.schedule(T0, () => void started.push('quick'));
    expect(started).toEqual(['slow', 'quick']);
    const settled = clock.settle();
    release();
    await settled;
    expect(clock.pending()).toBe(0);
  });

  it('moves time on to the next due task only once the running ones have finished', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    const seen: [string, number][] = [];
    clock.schedule(T0 + 1000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(['slow ends', clock.now()]);
    });
    clock.schedule(T0 + 2000, () => void seen.push(['later', clock.now()]));
    await clock.advance(5000);
    expect(seen).toEqual([
      ['slow ends', T0 + 1000],
      ['later', T0 + 2000],
    ]);
  });

  it('leaves tasks after the target waiting, and cancel removes one', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    const fired: number[] = [];
    clock.schedule(T0 + 1000, () => void fired.push(1));
    const second = clock.schedule(T0 + 2000, () => void fired.push(2));
    clock.schedule(T0 + 3000, () => void fired.push(3));
    second.cancel();
    await clock.advance(1500);
    expect([fired, clock.pending()]).toEqual([[1], 1]);
    await clock.advance(1500);
    expect(fired).toEqual([1, 3]);
  });

  it('runs a task due now on settle without moving time', async () => {
    const clock = createSimClock({ frozen: true, startMs: T0 });
    let ran = false;
    clock.schedule(T0, async () => {
      ran = true;
    });
    await clock.settle();
    expect([ran, clock.now()]).toEqual([true, T0]);
  });

  it('keeps running after a task throws, and reports it', async () => {
    const errors: unknown[] = [];
    const clock = createSimClock({ frozen: true, startMs: T0, onError: (e) => errors.push(e) });
    let after = false;
    clock.schedule(T0 + 1, () => {
      throw new Error('boom');
    });
    clock.schedule(T0 + 2, () => {
      after = true;
    });
    await clock.advance(10);
    expect([errors.length, after]).toEqual([1, true]);
  });

  it('fires tasks when real time reaches them', async () => {
    vi.useFakeTimers({ now: T0 });
    const clock = createSimClock();
    let ran = 0;
    clock.schedule(T0 + 15_000, () => {
      ran += 1;
    });
    await vi.advanceTimersByTimeAsync(14_999);
    expect(ran).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toBe(1);
    clock.close();
  });

  it('refuses to go backwards', async () => {
    await expect(createSimClock({ frozen: true }).advance(-1)).rejects.toThrow(RangeError);
  });
});
