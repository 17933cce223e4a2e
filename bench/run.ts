/**
 * `npm run bench [-- --quick] [--scenario NAME] [--db sqlite|postgres]`: measures the service
 * against a bare Fastify baseline measured in the same run, with the same connections, just
 * before each scenario. Writes bench/out/results.json and .md (bench/results.* with --save), prints a table, and
 * exits 1 if a database check failed (a lost or double credit), never for a missed target.
 *
 * The service must be built first (`npm run bench` runs `npm run build`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createProgress } from '../src/cli/progress.js';
import { redactUrl } from '../src/db/open.js';
import { parseBenchArgs, planOf, reportPaths, USAGE } from './args.js';
import { OUT_DIR, postgresProblem } from './databases.js';
import { type LoadResult, runLoad } from './load.js';
import { REPO_ROOT, startBaseline } from './processes.js';
import { evaluateTargets, machineInfo, printTable, type Report, type Row, writeReport } from './report.js';
import { runScenario } from './scenarios.js';
import { runSoak } from './soak.js';
import { writeSoak } from './soak-report.js';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const parsed = parseBenchArgs(argv, process.env);
  if (!parsed.ok) {
    process.stderr.write(`bench: ${parsed.problem}\n\n${USAGE}`);
    return 2;
  }
  const { options } = parsed;
  const notes: string[] = [];
  if (options.databases.includes('postgres')) {
    const problem = await postgresProblem(options.postgresUrl);
    if (problem !== undefined) {
      const where = redactUrl(options.postgresUrl);
      if (options.databases.length === 1) {
        process.stderr.write(`bench: PostgreSQL at ${where} is not reachable (${problem})\n`);
        return 2;
      }
      // A fresh clone without PostgreSQL still gets the SQLite figures, and says what is missing.
      notes.push(`PostgreSQL at ${where} was not reachable (${problem}); its measurements were skipped.`);
      options.databases = options.databases.filter((db) => db !== 'postgres');
    }
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'index.js'))) {
    process.stderr.write('bench: dist/ is missing; run `npm run build` first (npm run bench does)\n');
    return 2;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const startedAt = new Date().toISOString();
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  if (options.soakMinutes > 0) {
    const result = await runSoak(options, options.soakMinutes, (line) => process.stderr.write(`${line}\n`));
    const paths = reportPaths(options);
    process.stdout.write(
      writeSoak(result, command, startedAt, join(REPO_ROOT, paths.md), join(REPO_ROOT, paths.json)),
    );
    process.stdout.write(`\nwrote ${paths.json} and ${paths.md}\n`);
    return result.check.ok ? 0 : 1;
  }
  const machine = machineInfo();
  const plan = planOf(options);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  for (const note of notes) log(`bench: ${note}`);
  log(`bench: ${plan.length} measurements, ${options.connections} connections, ${options.durationS} s each`);

  const baseline = await startBaseline();
  const rows: Row[] = [];
  // A bar per scenario on a terminal, plain lines in a log; the measurements print above it.
  const progress = createProgress();
  progress.start(plan.length, 'bench');
  try {
    const measureBaseline = () =>
      runLoad({
        url: baseline.url,
        server: baseline,
        connections: options.connections,
        durationS: options.baselineDurationS,
      });
    for (const { scenario, db, seedOrders } of plan) {
      const before = await measureBaseline();
      progress.log(`  baseline       ${fmtLoad(before)}`);
      const measured = await runScenario(scenario, { options, db, baselineRps: before.rps, seedOrders, log });
      // Measured again right after: the ratio is to the mean of the two, so a machine that got
      // busier or quieter during the scenario moves it less.
      const after = await measureBaseline();
      const base = meanOf(before, after);
      progress.log(
        `  ${`${scenario}/${db}${seedOrders > 0 ? ` +${seedOrders} orders` : ''}`.padEnd(14)} ${fmtLoad(measured.load)} ` +
          `(${(measured.load.rps / base.rps).toFixed(3)} × baseline), peak RSS ` +
          `${((measured.peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MB; ${measured.check.summary}`,
      );
      progress.log(`  baseline       ${fmtLoad(after)}`);
      rows.push({ ...measured, baseline: base, baselineRuns: [before, after] });
      progress.tick(1, `${scenario}/${db}`);
    }
  } finally {
    progress.done(`${rows.length} of ${plan.length} measurement(s)`);
    await baseline.stop();
  }

  const report: Report = {
    command,
    startedAt,
    machine,
    connections: options.connections,
    durationS: options.durationS,
    baselineDurationS: options.baselineDurationS,
    rows,
    targets: evaluateTargets(rows, options.connections),
    notes,
  };
  const paths = reportPaths(options);
  mkdirSync(join(REPO_ROOT, dirname(paths.json)), { recursive: true });
  writeReport(report, join(REPO_ROOT, paths.json), join(REPO_ROOT, paths.md));
  printTable(report);
  process.stdout.write(
    `\nwrote ${paths.json} and ${paths.md}${options.save ? '' : ' (pass --save to update the committed bench/results.*)'}\n`,
  );
  return rows.every((r) => r.check.ok) ? 0 : 1;
}

/** The two baseline runs around a scenario as one: mean rate and latencies, summed failures. */
function meanOf(a: LoadResult, b: LoadResult): LoadResult {
  const mean = (x: number, y: number) => (x + y) / 2;
  return {
    requests: a.requests + b.requests,
    durationS: a.durationS + b.durationS,
    rps: mean(a.rps, b.rps),
    p50: mean(a.p50, b.p50),
    p99: mean(a.p99, b.p99),
    failures: a.failures + b.failures,
    failureDetail: [a.failureDetail, b.failureDetail].filter(Boolean).join('; '),
    generatorCpuUsPerRequest: mean(a.generatorCpuUsPerRequest, b.generatorCpuUsPerRequest),
    ...(a.serverCpuUsPerRequest !== undefined && b.serverCpuUsPerRequest !== undefined
      ? { serverCpuUsPerRequest: mean(a.serverCpuUsPerRequest, b.serverCpuUsPerRequest) }
      : {}),
    ...(a.serverCpuLoad !== undefined && b.serverCpuLoad !== undefined
      ? { serverCpuLoad: mean(a.serverCpuLoad, b.serverCpuLoad) }
      : {}),
  };
}

function fmtLoad(load: LoadResult) {
  const failures = load.failures > 0 ? `, ${load.failures} failures (${load.failureDetail})` : '';
  const cpu =
    load.serverCpuUsPerRequest === undefined
      ? ''
      : `, server CPU ${load.serverCpuUsPerRequest.toFixed(0)} µs/req (${load.serverCpuLoad?.toFixed(2)} cores)` +
        `, autocannon ${load.generatorCpuUsPerRequest.toFixed(0)} µs/req`;
  return `${load.rps.toFixed(0)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms${cpu}${failures}`;
}

process.exitCode = await main(process.argv.slice(2));
