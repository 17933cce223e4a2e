import { describe, expect, it } from 'vitest';
import type { ReconcileProgress } from '../reconcile/reconcile-day.js';
import { createProgress } from './progress.js';

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

function play(tty: boolean): string {
  let out = '';
  const progress = createProgress((s) => {
    out += s;
  }, tty);
  for (const p of RUN) progress.update(p);
  progress.done();
  return out;
}

describe('reconciliation progress', () => {
  it('off a terminal, writes one plain line per phase and per finding settled', () => {
    expect(play(false)).toBe(
      [
        "downloading WeChat's bill…",
        'comparing it with our orders and refunds…',
        'settling the differences by query (2)…',
        '  settled 1/2',
        '  settled 2/2',
        'saving the report and its anomalies…',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal, redraws one bar in place and clears it at the end', () => {
    const out = play(true);
    expect(out).not.toContain('\n');
    const frames = out.split('\r\x1b[2K').filter(Boolean);
    expect(frames).toHaveLength(RUN.length);
    expect(frames[5]).toBe(`[${'█'.repeat(12)}${'░'.repeat(12)}] 1/2 settling the differences by query`);
    expect(frames[8]).toBe(`[${'█'.repeat(24)}] 1/1 saving the report and its anomalies`);
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('draws a phase with nothing to do as full, not as a division by zero', () => {
    let out = '';
    createProgress((s) => {
      out += s;
    }, true).update({ phase: 'settle', done: 0, total: 0 });
    expect(out).toContain(`[${'█'.repeat(24)}] 0/0`);
  });
});
