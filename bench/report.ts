/**
 * The results, three ways: a table on stdout, bench/results.json (everything, for machines) and
 * bench/results.md (the table and the targets, for people). Every figure is shown absolute and
 * as a ratio to the baseline measured just before it.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { LoadResult } from './load.js';
import type { Measurement } from './scenarios.js';
import { ratio } from './targets.js';

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

export { evaluateTargets } from './targets.js';

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

/** The scenario, with the orders it started with when it was a growth measurement. */
function label(r: Row): string {
  return r.seededOrders > 0
    ? `${r.scenario} (${r.seededOrders.toLocaleString('en-US')} orders stored)`
    : r.scenario;
}

/** weapp-pay's notification beside the anchors of the same run. */
function anchorLines(rows: Row[]): string[] {
  const anchors = rows.filter((r) => r.scenario.startsWith('anchor-'));
  const ours = rows.find((r) => r.scenario === 'notify' && r.db === 'sqlite' && r.seededOrders === 0);
  if (anchors.length === 0 || !ours) return [];
  const names: Record<string, string> = {
    'anchor-koa': "the tutorial's stack (Koa, xml-js, MD5, a durable commit per notification)",
    'anchor-fastify': 'plain Fastify + fast-xml-parser, a durable commit per notification',
  };
  return [
    '## Beside the anchors (same run, SQLite, synchronous=FULL)',
    '',
    '| server | × baseline | server CPU µs/req | weapp-pay × this one |',
    '|---|--:|--:|--:|',
    `| weapp-pay | ${fmt(ratio(ours), 3)} | ${cpu(ours.load)} | 1 |`,
    ...anchors.map(
      (a) =>
        `| ${names[a.scenario] ?? a.scenario} | ${fmt(ratio(a), 3)} | ${cpu(a.load)} | ${fmt(ratio(ours) / ratio(a), 2)} |`,
    ),
    '',
  ];
}

/** Growth on SQLite: every statement whose plan reads a whole table, at the seeded size. */
function planLines(rows: Row[]): string[] {
  const planned = rows.filter((r) => r.queryPlans);
  if (planned.length === 0) return [];
  const lines = ['## Query plans at the seeded size (SQLite, EXPLAIN QUERY PLAN)', ''];
  for (const r of planned) {
    const scanning = r.queryPlans!.filter((p) => p.scans.length > 0);
    lines.push(
      `${label(r)}: ${r.queryPlans!.length} distinct statements, ${scanning.length} with a scan` +
        (scanning.length > 0 ? ':' : '.'),
    );
    for (const p of scanning) lines.push(`- \`${p.sql.replace(/\s+/g, ' ')}\`: ${p.scans.join('; ')}`);
    lines.push('');
  }
  return lines;
}

function resultTable(rows: Row[]): string[] {
  const lines = [
    '| scenario | db | req/s | × baseline | p50 ms | p99 ms | server CPU µs/req | baseline req/s | baseline p99 ms | baseline CPU µs/req | peak RSS MB | failures | check |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${label(r)} | ${r.db} | ${fmt(r.load.rps)} | ${fmt(r.load.rps / r.baseline.rps, 3)} | ` +
        `${fmt(r.load.p50, 1)} | ${fmt(r.load.p99, 1)} | ${cpu(r.load)} | ${fmt(r.baseline.rps)} | ` +
        `${fmt(r.baseline.p99, 1)} | ${cpu(r.baseline)} | ` +
        `${rss(r.peakRssBytes)} | ${r.load.failures} | ${r.check.ok ? 'ok' : 'FAILED'}: ${r.check.summary} |`,
    );
  }
  return lines;
}

/** The webhooks scenario: deliveries to a receiver answering 2xx during the notification load. */
function webhookLines(rows: Row[]): string[] {
  const measured = rows.filter((r) => r.webhooks);
  if (measured.length === 0) return [];
  return [
    '## Webhook delivery under the notification load',
    '',
    'The receiver is a separate process answering 200 at once. Delay: from the commit that made the ' +
      "order PAID (its `updated_at`) to the receiver's 2xx; throughput: distinct events answered per second, first 2xx to last.",
    '',
    '| db | events | delivered | deliveries/s | delay p50 ms | delay p99 ms | delay max ms | drained after load s |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...measured.map((r) => {
      const w = r.webhooks!;
      return (
        `| ${r.db} | ${w.events} | ${w.delivered} | ${fmt(w.perSecond)} | ${fmt(w.delayP50Ms)} | ` +
        `${fmt(w.delayP99Ms)} | ${fmt(w.delayMaxMs)} | ${fmt(w.drainS, 1)} |`
      );
    }),
    '',
  ];
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
    ...webhookLines(report.rows),
    ...anchorLines(report.rows),
    ...planLines(report.rows),
  ].join('\n');
}

export function printTable(report: Report): void {
  process.stdout.write(`\n${resultTable(report.rows).join('\n')}\n\n`);
  const webhooks = webhookLines(report.rows);
  if (webhooks.length > 0) process.stdout.write(`${webhooks.join('\n')}\n`);
  for (const t of report.targets) {
    process.stdout.write(`${t.met ? 'met    ' : 'NOT met'}  ${t.measure}: ${t.value} (target ${t.target})\n`);
  }
}

export function writeReport(report: Report, jsonPath: string, mdPath: string): void {
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(mdPath, renderMarkdown(report));
}
