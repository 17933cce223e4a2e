/**
 * The results, three ways: a table on stdout, bench/results.json (everything, for machines) and
 * bench/results.md (the table and the targets, for people). Every figure is shown absolute and
 * as a ratio to the baseline measured just before it.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { LoadResult } from './load.js';
import type { Measurement } from './scenarios.js';

export interface Row extends Measurement {
  /** The mean of the baseline runs just before and just after the scenario. */
  baseline: LoadResult;
  baselineRuns: LoadResult[];
}

export interface Target {
  measure: string;
  target: string;
  value: string;
  met: boolean;
}

export interface Report {
  command: string;
  startedAt: string;
  machine: { cpus: number; model: string; node: string; loadavgAtStart: number[] };
  connections: number;
  durationS: number;
  baselineDurationS: number;
  rows: Row[];
  targets: Target[];
  /** Anything the reader should know about this run (a database that was skipped, say). */
  notes: string[];
}

const MB = 1024 * 1024;
const fmt = (n: number, digits = 0) => n.toFixed(digits);
const rss = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : fmt(bytes / MB));
const cpu = (load: LoadResult) =>
  load.serverCpuUsPerRequest === undefined ? 'n/a' : fmt(load.serverCpuUsPerRequest);

export function machineInfo(): Report['machine'] {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export function evaluateTargets(rows: Row[], connections: number): Target[] {
  const targets: Target[] = [];
  const ratio = (r: Row) => r.load.rps / r.baseline.rps;
  for (const r of rows.filter((r) => r.scenario === 'notify' && r.db === 'sqlite')) {
    targets.push({
      measure: 'v2 notification throughput, SQLite',
      target: '≥ 0.60 × baseline',
      value: `${fmt(ratio(r), 2)} × (${fmt(r.load.rps)} / ${fmt(r.baseline.rps)} req/s)`,
      met: ratio(r) >= 0.6,
    });
  }
  for (const r of rows.filter((r) => r.scenario === 'notify')) {
    targets.push({
      measure: `v2 notification p99, ${r.db}, ${connections} connections`,
      target: '≤ 25 ms',
      value: `${fmt(r.load.p99, 1)} ms`,
      met: r.load.p99 <= 25 && connections === 50,
    });
  }
  for (const r of rows.filter((r) => r.scenario === 'orders')) {
    targets.push({
      measure: `Order creation throughput, ${r.db}`,
      target: '≥ 0.25 × baseline',
      value: `${fmt(ratio(r), 3)} × (${fmt(r.load.rps)} / ${fmt(r.baseline.rps)} req/s)`,
      met: ratio(r) >= 0.25,
    });
  }
  const peaks = rows.filter((r) => r.peakRssBytes !== undefined);
  if (peaks.length > 0) {
    const worst = peaks.reduce((a, b) => ((a.peakRssBytes ?? 0) >= (b.peakRssBytes ?? 0) ? a : b));
    targets.push({
      measure: 'Server peak RSS, any scenario',
      target: '≤ 200 MB',
      value: `${rss(worst.peakRssBytes)} MB (${worst.scenario}, ${worst.db})`,
      met: (worst.peakRssBytes ?? 0) <= 200 * MB,
    });
  }
  return targets;
}

function resultTable(rows: Row[]): string[] {
  const lines = [
    '| scenario | db | req/s | × baseline | p50 ms | p99 ms | server CPU µs/req | baseline req/s | baseline p99 ms | baseline CPU µs/req | peak RSS MB | failures | check |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.db} | ${fmt(r.load.rps)} | ${fmt(r.load.rps / r.baseline.rps, 3)} | ` +
        `${fmt(r.load.p50, 1)} | ${fmt(r.load.p99, 1)} | ${cpu(r.load)} | ${fmt(r.baseline.rps)} | ` +
        `${fmt(r.baseline.p99, 1)} | ${cpu(r.baseline)} | ` +
        `${rss(r.peakRssBytes)} | ${r.load.failures} | ${r.check.ok ? 'ok' : 'FAILED'}: ${r.check.summary} |`,
    );
  }
  return lines;
}

export function renderMarkdown(report: Report): string {
  const durability = [...new Set(report.rows.map((r) => `${r.db}: ${r.durability}`))];
  return [
    '# weapp-pay benchmark results',
    '',
    `Command: \`${report.command}\` (${report.startedAt})`,
    '',
    `Machine: ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}, ` +
      `load average at start ${report.machine.loadavgAtStart.join(' / ')}.`,
    `Load: autocannon, ${report.connections} connections, ${report.durationS} s per scenario ` +
      `(${report.baselineDurationS} s per baseline), ` +
      'no pipelining, loopback. Each scenario is measured between two baseline runs (a bare Fastify ' +
      '"hello" route in its own process); the ratio is to the mean of those two.',
    '',
    ...report.notes.map((n) => `**Note:** ${n}\n`),
    'Durability while measured:',
    ...durability.map((d) => `- ${d}`),
    '',
    ...resultTable(report.rows),
    '',
    '## Targets',
    '',
    '| measure | target | measured | met |',
    '|---|---|---|---|',
    ...report.targets.map((t) => `| ${t.measure} | ${t.target} | ${t.value} | ${t.met ? 'yes' : 'NO'} |`),
    '',
  ].join('\n');
}

export function printTable(report: Report): void {
  process.stdout.write(`\n${resultTable(report.rows).join('\n')}\n\n`);
  for (const t of report.targets) {
    process.stdout.write(`${t.met ? 'met    ' : 'NOT met'}  ${t.measure}: ${t.value} (target ${t.target})\n`);
  }
}

export function writeReport(report: Report, jsonPath: string, mdPath: string): void {
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(mdPath, renderMarkdown(report));
}
