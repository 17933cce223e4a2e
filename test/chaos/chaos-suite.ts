/**
 * The chaos set CI runs on every `npm test`: seeded shop days under faults, clock jumps, kills
 * and connection kills, a few at once, each checked against every money rule. The seeds are
 * fixed, so a failure names its seed and the command that replays it; `npm run chaos` plays
 * many more.
 */
import { describe, expect, it } from 'vitest';
import type { SqlDialect } from '../../src/db/database.js';
import { testDatabases } from '../db/dialects.js';
import { type ChaosOptions, killsIn, replayCommand } from './chaos-run.js';
import { runSlots } from './slots.js';
import { add, emptyTotals, runLine } from './summary.js';

export interface ChaosSet {
  runs: number;
  /** The first seed; chosen so the set holds runs that SIGKILL, on the kill share below. */
  firstSeed: number;
  options: ChaosOptions;
  slots: number;
}

export function defineChaosSuite(dialect: SqlDialect, set: ChaosSet): void {
  const database = testDatabases().find((d) => d.name === dialect);
  const seeds = Array.from({ length: set.runs }, (_, i) => set.firstSeed + i);
  describe.skipIf(database === undefined)(`chaos on ${dialect}`, () => {
    it(`keeps every money rule through ${set.runs} seeded shop days (seeds ${seeds[0]}–${seeds.at(-1)})`, async () => {
      expect(seeds.some((s) => killsIn(s, set.options.killShare))).toBe(true);
      const totals = emptyTotals();
      const lines: string[] = [];
      let next = 0;
      await runSlots(
        database as NonNullable<typeof database>,
        set.options,
        set.slots,
        () => seeds[next++],
        (outcome) => {
          add(totals, outcome);
          const broke = 'error' in outcome || outcome.report.violations.length > 0;
          if (broke)
            lines.push(
              runLine(outcome),
              `replay: ${replayCommand({ seed: outcome.seed, database: dialect }, set.options)}`,
            );
          if ('report' in outcome) lines.push(...outcome.report.violations.map((v) => `  ${v}`));
        },
      );
      expect(lines, lines.join('\n')).toEqual([]);
      expect(totals.runs).toBe(set.runs);
      // The set proved something only if it injected what it claims to.
      expect(totals.kills).toBeGreaterThan(0);
      expect(Object.keys(totals.faults).length).toBeGreaterThanOrEqual(10);
      expect(totals.clockJumps).toBeGreaterThan(set.runs);
      expect(totals.payments).toBeGreaterThan(set.runs);
      expect(totals.refunds).toBeGreaterThan(0);
      if (dialect === 'postgres') expect(totals.connectionKills).toBeGreaterThan(0);
    }, 180_000);
  });
}
