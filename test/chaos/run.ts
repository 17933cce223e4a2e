/**
 * `npm run chaos -- [--runs N] [--seed S] [--db sqlite|postgres] [--instances 1|2] [--minutes M]`
 *
 * Random shop days under faults, each from its seed (seeds S, S+1, …), checked against every
 * money rule; see docs/reliability.md. More options: --kill-share F (the share of runs played
 * on child processes with SIGKILLs, default 0.1), --waves W (actions per day, in waves, default
 * 10), --workers P (processes, default 2), --slots K (runs at once per process, default 3).
 * Exits 1 when a rule broke or a run could not be played, with the command that replays it.
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { testDatabases } from '../db/dialects.js';
import { type ChaosOptions, DEFAULT_CHAOS_OPTIONS } from './chaos-run.js';
import { progressBar } from './progress.js';
import type { RunOutcome } from './slots.js';
import { add, emptyTotals, runLine, summary } from './summary.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    seed: { type: 'string' },
    db: { type: 'string', default: 'sqlite' },
    instances: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.instances) },
    minutes: { type: 'string' },
    'kill-share': { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.killShare) },
    waves: { type: 'string', default: String(DEFAULT_CHAOS_OPTIONS.waves) },
    workers: { type: 'string', default: '2' },
    slots: { type: 'string', default: '3' },
  },
});

function fail(message: string): never {
  process.stderr.write(`npm run chaos: ${message}\n`);
  process.exit(2);
}
const whole = (name: string, value: string | undefined, min: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    fail(`--${name} must be a whole number, ${min} or more (got ${value})`);
  return n;
};

const first = values.seed === undefined ? 1 : whole('seed', values.seed, 0);
const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
if (minutes !== undefined && !(minutes > 0))
  fail(`--minutes must be a positive number (got ${values.minutes})`);
const runs =
  values.runs !== undefined
    ? whole('runs', values.runs, 1)
    : minutes !== undefined
      ? Number.POSITIVE_INFINITY
      : values.seed !== undefined
        ? 1
        : 100;
if (values.db !== 'sqlite' && values.db !== 'postgres')
  fail(`--db must be sqlite or postgres (got ${values.db})`);
const instances = whole('instances', values.instances, 1);
if (instances > 2) fail('--instances must be 1 or 2');
if (instances === 2 && values.db === 'sqlite')
  fail('two instances share one database only on PostgreSQL: add --db postgres');
const killShare = Number(values['kill-share']);
if (!(killShare >= 0 && killShare <= 1)) fail('--kill-share must be between 0 and 1');
const options: ChaosOptions = { instances, killShare, waves: whole('waves', values.waves, 1) };
const workers = whole('workers', values.workers, 1);
const slots = whole('slots', values.slots, 1);
const database = testDatabases().find((d) => d.name === values.db);
if (!database) fail(`${values.db} is not reachable (set WEAPP_PAY_TEST_DATABASE_URL)`);

const started = Date.now();
const deadline = minutes === undefined ? Number.POSITIVE_INFINITY : started + minutes * 60_000;
const totals = emptyTotals();
const tty = process.stdout.isTTY === true;
const bar = progressBar(process.stdout, runs, deadline, started);
let issued = 0;

function onOutcome(outcome: RunOutcome) {
  add(totals, outcome);
  const broke = 'error' in outcome || outcome.report.violations.length > 0;
  if (!tty) process.stdout.write(`${runLine(outcome)}\n`);
  else if (broke) bar.print(runLine(outcome));
  if (tty) bar.update(totals.runs, totals.violations + totals.errors.length);
}

await Promise.all(
  Array.from({ length: workers }, () => {
    const child = fork(new URL('./worker.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CHAOS_WORKER: JSON.stringify({ database: database.name, options, slots }) },
    });
    child.on('message', (m: { want?: boolean; outcome?: RunOutcome }) => {
      if (m.outcome) onOutcome(m.outcome);
      if (m.want) {
        const more = issued < runs && Date.now() < deadline;
        child.send({ seed: more ? first + issued++ : null });
      }
    });
    return new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (code !== 0) totals.errors.push({ seed: -1, error: `a worker stopped (${signal ?? code})` });
        resolve();
      }),
    );
  }),
);
if (tty) bar.done();
const lost = issued - totals.runs;
if (lost > 0) totals.errors.push({ seed: -1, error: `${lost} runs never reported: a worker died` });
process.stdout.write(summary(totals, options, database.name, Date.now() - started));
process.exitCode = totals.violations === 0 && totals.errors.length === 0 ? 0 : 1;
