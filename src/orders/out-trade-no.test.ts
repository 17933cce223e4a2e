import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { childScript } from '../../test/db/child-script.js';
import { createManualClock } from '../clock.js';
import { createOutTradeNoGenerator, OUT_TRADE_NO_PATTERN } from './out-trade-no.js';

const GENERATOR_MODULE = fileURLToPath(new URL('./out-trade-no.ts', import.meta.url));
const FROZEN_MS = Date.UTC(2024, 0, 1, 4, 5, 30);

/** Counts repeated values without a Set of a million strings (sorting is several times faster). */
function duplicatesIn(ids: string[]): number {
  const sorted = [...ids].sort();
  let duplicates = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) duplicates++;
  return duplicates;
}

describe('out_trade_no generator', () => {
  it('makes a million distinct, valid, ever-increasing ids inside one frozen millisecond', () => {
    const next = createOutTradeNoGenerator({ clock: { now: () => FROZEN_MS } });
    const ids = Array.from({ length: 1_000_000 }, next);
    expect(duplicatesIn(ids)).toBe(0);
    expect(ids.every((id) => OUT_TRADE_NO_PATTERN.test(id) && /^[0-9A-Za-z]{24}$/.test(id))).toBe(true);
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as string))).toBe(true);
  });

  it('keeps increasing when the clock steps backwards', () => {
    const clock = createManualClock(FROZEN_MS);
    const next = createOutTradeNoGenerator({ clock });
    const before = [next(), next()];
    clock.set(FROZEN_MS - 60_000);
    const after = [next(), next()];
    const all = [...before, ...after];
    expect(all).toEqual([...all].sort());
    expect(duplicatesIn(all)).toBe(0);
  });

  it('ends every id with the instanceId when one is given, and refuses one WeChat would not accept', () => {
    const next = createOutTradeNoGenerator({ instanceId: 'pod7', clock: { now: () => FROZEN_MS } });
    expect(next()).toMatch(/^[0-9A-Za-z]{12}pod7$/);
    expect(() => createOutTradeNoGenerator({ instanceId: 'pod-7' })).toThrow(/instanceId/);
    expect(() => createOutTradeNoGenerator({ instanceId: 'x'.repeat(13) })).toThrow(RangeError);
  });

  it('never collides across four processes bursting inside the same millisecond', async () => {
    // Every process uses the same frozen clock, so only the per-process node part tells them apart:
    // the hardest case for uniqueness. bench/out-trade-no-collisions.ts runs the 10^7 version.
    const perProcess = 100_000;
    // Plain JavaScript children (an esbuild bundle of the module): tsx would cost seconds each.
    const generator = pathToFileURL(await childScript(GENERATOR_MODULE)).href;
    const script = `
      import { createOutTradeNoGenerator } from ${JSON.stringify(generator)};
      const next = createOutTradeNoGenerator({ clock: { now: () => ${FROZEN_MS} } });
      const ids = new Array(${perProcess});
      for (let i = 0; i < ids.length; i++) ids[i] = next();
      process.stdout.write(ids.join('\\n'));`;
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script], {
          maxBuffer: 64 << 20,
        }),
      ),
    );
    const ids = outputs.flatMap((o) => o.stdout.split('\n'));
    expect(ids).toHaveLength(4 * perProcess);
    expect(duplicatesIn(ids)).toBe(0);
    expect(ids.every((id) => OUT_TRADE_NO_PATTERN.test(id))).toBe(true);
    // Four child processes on two shared cores: generous, so a busy machine is not a failure.
  }, 120_000);
});
