import { describe, expect, it } from 'vitest';
import type { ReconcileProgress } from '../reconcile/reconcile-day.js';
import { createProgress } from './progress.js';
import { reconcileProgress } from './reconcile-progress.js';

/** A run with two findings to settle, as reconcileDay reports it. */
const RUN: ReconcileProgress[] = [
  { phase: 'download', done: 0, total: 1 },
  { phase: 'download', done: 1, total: 1 },
  { phase: 'compare', done: 0, total: 1 },
  { phase: 'compare', done: 1, total: 1 },
  { phase: 'settle', done: 0, total: 2 },
  { phase: 'settle', done: 1, total: 2 },
  { phase: 'settle', done: 2, total: 2 },
  { phase: 'save', done: 0, total: 1 },
  { phase: 'save', done: 1, total: 1 },
];

function play(isTTY: boolean): string {
  let out = '';
  const stream = { isTTY, columns: 120, write: (s: string) => (out += s) };
  const progress = reconcileProgress(createProgress({ stream, env: {}, now: () => 0 }));
  for (const p of RUN) progress.update(p);
  progress.done();
  return out;
}

describe('reconciliation progress', () => {
  it('off a terminal, writes plain lines: each phase, each step settled, each phase done', () => {
    const lines = play(false).trimEnd().split('\n');
    expect(lines).toContain('settling the differences by query: 2 step(s)');
    expect(lines).toContain('settling the differences by query: 1/2');
    expect(lines).toContain('settling the differences by query: 2/2');
    expect(lines.at(-1)).toBe('saving the report and its anomalies: done, 1/1 (0.0 s)');
    expect(lines.filter((l) => l.includes('done,'))).toHaveLength(4);
    expect(play(false)).not.toContain('\r');
  });

  it('on a terminal, redraws one bar per phase in place and ends each with a line', () => {
    const out = play(true);
    expect(out).toContain('\r\x1b[2K');
    expect(out.split('\n').filter(Boolean)).toHaveLength(4);
  });
});
