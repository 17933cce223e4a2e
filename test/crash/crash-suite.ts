/**
 * The crash suite CI runs on every `npm test`: each scenario once per database, with its fixed
 * CI seed and one kill round (a SIGKILL per instance at a seeded moment, then the restart and the
 * checks), to stay within a minute on a small machine. The seed is in the test name;
 * `npm run crash` runs many seeds with more rounds.
 */
import { describe, expect, it } from 'vitest';
import type { SqlDialect } from '../../src/db/database.js';
import { testDatabases } from '../db/dialects.js';
import { type RunReport, runSeed } from './runner.js';
import { SCENARIOS } from './scenarios.js';

export const CI_ROUNDS = 1;

function failure(report: RunReport): string {
  return [
    `replay: npm run crash -- --seed ${report.seed} --rounds ${CI_ROUNDS} --scenario "${report.scenario}" --database ${report.database}`,
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
      it(`${scenario.name}, seed ${scenario.ciSeed}: every money rule holds after a SIGKILL and a restart`, async () => {
        const report = await runSeed(
          scenario,
          scenario.ciSeed,
          database as NonNullable<typeof database>,
          CI_ROUNDS,
        );
        expect(report.violations, failure(report)).toEqual([]);
        expect(report.kills).toBe(CI_ROUNDS * scenario.instances);
        // The run proved something only if money moved and the service was told about it.
        expect(report.paid).toBeGreaterThan(0);
        expect(report.created).toBeGreaterThan(0);
        if (scenario.webhooks) expect(report.webhooksReceived).toBeGreaterThan(0);
      }, 180_000);
    }
  });
}
