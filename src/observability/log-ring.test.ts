import { describe, expect, it } from 'vitest';
import { createLogRing, type LogEntry } from './log-ring.js';

function entry(n: number, over: Partial<LogEntry> = {}): LogEntry {
  return {
    seq: 0,
    time: 1_700_000_000_000 + n,
    level: 'info',
    kind: 'request',
    method: 'GET',
    path: `/api/orders/o${n}`,
    status: 200,
    outcome: null,
    durationMs: 1,
    orderId: `o${n}`,
    ...over,
  };
}

describe('the request log ring', () => {
  it('keeps only the newest `capacity` entries, oldest first, numbered from 1', () => {
    const ring = createLogRing(3);
    for (let n = 1; n <= 5; n++) ring.add(entry(n));
    const { entries, next } = ring.read({ limit: 10 });
    expect(entries.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(entries.map((e) => e.path)).toEqual(['/api/orders/o3', '/api/orders/o4', '/api/orders/o5']);
    expect(next).toBe(5);
  });

  it('answers only what came after the cursor, and nothing when nothing came', () => {
    const ring = createLogRing(10);
    ring.add(entry(1));
    ring.add(entry(2));
    const first = ring.read({ limit: 10 });
    expect(ring.read({ after: first.next, limit: 10 }).entries).toEqual([]);
    ring.add(entry(3));
    expect(ring.read({ after: first.next, limit: 10 }).entries.map((e) => e.seq)).toEqual([3]);
  });

  it('filters by order and lowest level, and a limited read resumes where it stopped', () => {
    const ring = createLogRing(10);
    ring.add(entry(1, { orderId: 'a' }));
    ring.add(entry(2, { orderId: 'b', level: 'warn' }));
    ring.add(entry(3, { orderId: 'a', level: 'error' }));
    ring.add(entry(4, { orderId: 'a', level: 'debug' }));
    expect(ring.read({ orderId: 'a', limit: 10 }).entries.map((e) => e.seq)).toEqual([1, 3, 4]);
    expect(ring.read({ level: 'warn', limit: 10 }).entries.map((e) => e.seq)).toEqual([2, 3]);
    const page = ring.read({ orderId: 'a', limit: 1 });
    expect(page.entries.map((e) => e.seq)).toEqual([1]);
    expect(page.next).toBe(1);
    expect(ring.read({ orderId: 'a', after: page.next, limit: 10 }).entries.map((e) => e.seq)).toEqual([
      3, 4,
    ]);
  });

  it('reads from the oldest entry again when the cursor is ahead of it (the service restarted)', () => {
    const ring = createLogRing(10);
    ring.add(entry(1));
    const { entries, next } = ring.read({ after: 500, limit: 10 });
    expect(entries.map((e) => e.seq)).toEqual([1]);
    expect(next).toBe(1);
  });
});
