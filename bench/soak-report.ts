/** The soak's verdict on the targets, as a Markdown file and a few lines on stdout. */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { SoakResult } from './soak.js';
import { PEAK_RSS_TARGET_BYTES, RSS_GROWTH_TARGET } from './soak-analysis.js';

const MB = 1024 * 1024;
const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));

export function soakTargets(result: SoakResult) {
  const a = result.analysis;
  const growing = a.resources.filter((r) => r.grows).map((r) => r.type);
  const peak = Math.max(result.peakRssBytes ?? 0, a.peakRss);
  return [
    {
      measure: 'RSS growth after warm-up',
      target: `≤ ${RSS_GROWTH_TARGET * 100} %`,
      value: `${(a.rssGrowth * 100).toFixed(1)} % (${mb(a.rssAfterWarmup)} → ${mb(a.rssAtEnd)} MB)`,
      met: a.rssGrowth <= RSS_GROWTH_TARGET,
    },
    {
      measure: 'active handles and timers',
      target: 'none growing',
      value: growing.length === 0 ? 'none growing' : `growing: ${growing.join(', ')}`,
      met: growing.length === 0 && a.samples > 0,
    },
    { measure: 'peak RSS', target: '≤ 200 MB', value: `${mb(peak)} MB`, met: peak <= PEAK_RSS_TARGET_BYTES },
  ];
}

export function renderSoak(
  result: SoakResult,
  command: string,
  startedAt: string,
  loadAtStart: number[],
): string {
  const a = result.analysis;
  const l = result.load;
  return [
    '# weapp-pay soak',
    '',
    `Command: \`${command}\` (${startedAt}); load average at start ${loadAtStart.join(' / ')}.`,
    '',
    `${result.minutes} min at ${result.rate} req/s (${l.requests} requests, p50 ${l.p50} ms, p99 ${l.p99} ms, ` +
      `server CPU ${l.serverCpuUsPerRequest?.toFixed(0) ?? 'n/a'} µs/req). Mix: ` +
      Object.entries(result.mix)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') +
      `. Check: ${result.check.ok ? 'ok' : 'FAILED'}: ${result.check.summary}.`,
    '',
    `Samples: ${a.samples}, every 5 s inside the service; warm-up ${a.warmupS} s. ` +
      `V8 heap used ${mb(a.heapAfterWarmup)} → ${mb(a.heapAtEnd)} MB.`,
    '',
    '| measure | target | measured | met |',
    '|---|---|---|---|',
    ...soakTargets(result).map(
      (t) => `| ${t.measure} | ${t.target} | ${t.value} | ${t.met ? 'yes' : 'NO'} |`,
    ),
    '',
    '| active resource | after warm-up: mean, lowest | at the end: mean, lowest | max | growing (the lowest rose) |',
    '|---|--:|--:|--:|---|',
    ...a.resources.map(
      (r) =>
        `| ${r.type} | ${r.early.toFixed(1)}, ${r.earlyFloor} | ${r.late.toFixed(1)}, ${r.lateFloor} | ${r.max} | ${r.grows ? 'YES' : 'no'} |`,
    ),
    '',
  ].join('\n');
}

export function writeSoak(
  result: SoakResult,
  command: string,
  startedAt: string,
  mdPath: string,
  jsonPath: string,
) {
  const loadAtStart = loadavg().map((x) => Number(x.toFixed(2)));
  writeFileSync(jsonPath, `${JSON.stringify({ command, startedAt, loadAtStart, ...result }, null, 2)}\n`);
  const md = renderSoak(result, command, startedAt, loadAtStart);
  writeFileSync(mdPath, md);
  return md;
}
