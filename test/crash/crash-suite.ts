/**
 * The crash suite CI runs on every `npm test`: each scenario once per database, with a fixed
 * seed and two kill rounds (two SIGKILLs per instance at seeded moments, then the last
 * restart and the checks). The seed is in the test name; `npm run crash` runs many more.
 */
import { describe, expect, it } from 'vitest';
import type { SqlDialect } from '../../src/db/database.js';
import { testDatabases } from '../db/dialects.js';
import { type RunReport, runSeed } from './runner.js';
import { SCENARIOS } from './scenarios.js';

export const CI_SEED = 1;

function failure(report: RunReport): string {
  return [
    `replay: npm run crash -- --seed ${report.seed} --scenario "${report.scenario}" --database ${report.database}`,
    ...report.plan,
    ...report.violations,
    report.output,
  ].join('\n');
}

export function defineCrashSuite(dialect: SqlDialect): void {
  const database = testDatabases().find((d) => d.name === dialect);
  describe.skipIf(database === undefined)(`SIGKILL at seeded moments, ${dialect}`, () => {
    for (const scenario of SCENARIOS) {
      if (scenario.postgresOnly && dialect !== 'postgres') continue;
      it(`${scenario.name}, seed ${CI_SEED}: every money rule holds after ${scenario.rounds} kill rounds`, async () => {
        const report = await runSeed(scenario, CI_SEED, database as NonNullable<typeof database>);
        expect(report.violations, failure(report)).toEqual([]);
        expect(report.kills).toBe(scenario.rounds * scenario.instances);
        // The run proved something only if money moved and the service was told about it.
        expect(report.paid).toBeGreaterThan(0);
        expect(report.created).toBeGreaterThan(0);
      }, 120_000);
    }
  });
}
