import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function output(isTTY: boolean) {
  const written: string[] = [];
  return { written, stream: { isTTY, columns: 80, write: (s: string) => written.push(s) } };
}

describe('progress', () => {
  it('prints one plain line per step when not on a terminal, without colour or carriage returns', () => {
    const { written, stream } = output(false);
    let t = 0;
    const progress = createProgress({ stream, env: {}, now: () => t });
    progress.start(3, 'migrate');
    progress.tick(1, '0001_initial');
    progress.log('a note');
    progress.tick(2);
    t = 1500;
    progress.done();
    expect(written.join('')).toBe(
      'migrate: 3 step(s)\nmigrate: 1/3 0001_initial\na note\nmigrate: 3/3\nmigrate: done, 3/3 (1.5 s)\n',
    );
  });

  it('redraws one bar in place on a terminal, at most every 80 ms, and always the last step', () => {
    const { written, stream } = output(true);
    let t = 0;
    const progress = createProgress({ stream, env: { NO_COLOR: '1' }, now: () => t });
    progress.start(4, 'bench');
    t = 100;
    progress.tick(1, 'notify/sqlite');
    progress.tick(1, 'notify/postgres'); // within 80 ms of the last drawing: not drawn
    t = 200;
    progress.tick(1, 'orders/sqlite');
    progress.tick(1, 'orders/postgres'); // the last step: drawn at once
    progress.done('4 scenarios');
    const text = written.join('');
    expect(text).not.toContain('\x1b[3'); // NO_COLOR: no colour codes, only line clearing
    expect(text).toContain('\r\x1b[2Kbench ░░░░░░░░░░░░░░░░░░░░░░░░ 0/4');
    expect(text).toContain('██████░░░░░░░░░░░░░░░░░░ 1/4 notify/sqlite');
    expect(text).not.toContain('notify/postgres');
    expect(text).toContain('██████████████████░░░░░░ 3/4 orders/sqlite');
    expect(text).toContain('████████████████████████ 4/4 orders/postgres');
    expect(text.endsWith('\r\x1b[2K✓ bench: 4 scenarios (0.2 s)\n')).toBe(true);
  });

  it('colours the bar on a terminal unless NO_COLOR is set, and cuts a long detail to the width', () => {
    const { written, stream } = output(true);
    let t = 0;
    const progress = createProgress({ stream, env: {}, now: () => t });
    progress.start(2, 'x');
    t = 100;
    progress.tick(1, 'd'.repeat(200));
    const text = written.join('');
    expect(text).toContain('\x1b[36m');
    const ESC = String.fromCharCode(27);
    const last = (written.at(-1) ?? '')
      .replace(new RegExp(`${ESC}\\[[0-9;]*[mK]`, 'g'), '')
      .replace('\r', '');
    expect(last.length).toBeLessThanOrEqual(80);
    expect(last.endsWith('…')).toBe(true);
  });
});
