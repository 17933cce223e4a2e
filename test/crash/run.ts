/**
 * The long crash run: `npm run crash -- --seeds 50` runs every scenario on every database for
 * seeds 1..50 and prints each run and the totals. Replay one failure with
 * `npm run crash -- --seed 1234 --scenario "order creation" --database postgres`.
 *
 *   --seeds N        seeds 1..N (default 10)
 *   --from S         start at seed S instead of 1
 *   --seed S         exactly one seed
 *   --scenario NAME  only this scenario ("notification burst", "webhook delivery", "order creation", "two instances", "refunds")
 *   --database NAME  only sqlite or postgres
 *   --rounds R       kill rounds per run (default: the scenario's own)
 */
import { parseArgs } from 'node:util';
import { testDatabases } from '../db/dialects.js';
import { runSeed } from './runner.js';
import { SCENARIOS } from './scenarios.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string' },
    scenario: { type: 'string' },
    database: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const from = Number(values.from);
const seeds =
  values.seed !== undefined
    ? [Number(values.seed)]
    : Array.from({ length: Number(values.seeds) }, (_, i) => from + i);
const scenarios = SCENARIOS.filter((s) => values.scenario === undefined || s.name === values.scenario);
const databases = testDatabases().filter((d) => values.database === undefined || d.name === values.database);
if (seeds.some((s) => !Number.isInteger(s)) || scenarios.length === 0 || databases.length === 0) {
  process.stderr.write('nothing to run: check --seeds/--seed, --scenario and --database\n');
  process.exit(2);
}

const started = Date.now();
const totals = {
  runs: 0,
  kills: 0,
  acknowledged: 0,
  created: 0,
  paid: 0,
  orphans: 0,
  violations: 0,
  errors: 0,
};
for (const database of databases) {
  for (const scenario of scenarios) {
    if (scenario.postgresOnly && database.name !== 'postgres') continue;
    for (const seed of seeds) {
      const t0 = Date.now();
      const rounds = values.rounds === undefined ? scenario.rounds : Number(values.rounds);
      let report: Awaited<ReturnType<typeof runSeed>>;
      try {
        report = await runSeed(scenario, seed, database, rounds);
      } catch (err) {
        // The harness itself failed (an instance too slow to start on a busy machine): not a
        // verdict on the money rules, but never silent.
        totals.errors++;
        process.stdout.write(
          `${database.name} | ${scenario.name} | seed ${seed} | ERROR ${(err as Error).message}\n`,
        );
        continue;
      }
      totals.runs++;
      totals.kills += report.kills;
      totals.acknowledged += report.acknowledged;
      totals.created += report.created;
      totals.paid += report.paid;
      totals.orphans += report.orphans;
      totals.violations += report.violations.length;
      const received = report.webhooksReceived > 0 ? ` | ${report.webhooksReceived} webhooks` : '';
      const verdict = report.violations.length === 0 ? 'ok' : `${report.violations.length} VIOLATIONS`;
      process.stdout.write(
        `${database.name} | ${scenario.name} | seed ${seed} | ${report.kills} kills | ${report.orphans} orphans${received} | ${verdict} | ${Date.now() - t0} ms | ${report.plan.join('; ')}\n`,
      );
      for (const v of report.violations) process.stdout.write(`    ${v}\n`);
      if (report.violations.length > 0) process.stdout.write(`${report.output}\n`);
    }
  }
}
process.stdout.write(
  `\n${totals.runs} runs, ${totals.kills} kills, ${totals.acknowledged} orders acknowledged, ` +
    `${totals.created} 201 answers, ${totals.paid} payments, ${totals.orphans} orphan orders, ` +
    `${totals.violations} violations, ${totals.errors} harness errors ` +
    `in ${Math.round((Date.now() - started) / 1000)} s\n`,
);
process.exitCode = totals.violations === 0 && totals.errors === 0 ? 0 : 1;
