/**
 * The targets of the performance work, judged on one run's rows. Throughput targets are ratios
 * to the bare-Fastify baseline measured around each scenario, so they carry over between
 * machines better than req/s; growth compares a seeded database with an empty one in the same run.
 */
import type { PlanDb, ScenarioName } from './args.js';
import type { Row, Target } from './report.js';

const MB = 1024 * 1024;
const fmt = (n: number, digits = 0) => n.toFixed(digits);

/** Minimum req/s as a multiple of the baseline's, per scenario and database. */
export const RATIO_TARGETS: readonly { scenario: ScenarioName; db: PlanDb; min: number; measure: string }[] =
  [
    { scenario: 'notify', db: 'sqlite', min: 0.25, measure: 'v2 notification, SQLite, durable' },
    { scenario: 'notify', db: 'postgres', min: 0.2, measure: 'v2 notification, PostgreSQL' },
    { scenario: 'notify-nodb', db: 'none', min: 0.45, measure: 'notification with no storage' },
    { scenario: 'notify-v3', db: 'sqlite', min: 0.18, measure: 'v3 notification, SQLite' },
    { scenario: 'orders', db: 'sqlite', min: 0.08, measure: 'order creation, SQLite' },
    { scenario: 'orders', db: 'postgres', min: 0.05, measure: 'order creation, PostgreSQL' },
    { scenario: 'login', db: 'sqlite', min: 0.1, measure: 'login' },
  ];
/** The seeded run's ratio to the baseline may be at most this much below the empty one's. */
export const GROWTH_TOLERANCE = 0.15;
export const P99_TARGET_MS = 25;
/** From the commit that made an order PAID to the webhook receiver's 2xx, under the notification load. */
export const WEBHOOK_DELAY_P99_TARGET_MS = 1000;
export const PEAK_RSS_TARGET_MB = 200;

export const ratio = (r: Row) => r.load.rps / r.baseline.rps;

export function evaluateTargets(rows: Row[], connections: number): Target[] {
  const empty = rows.filter((r) => r.seededOrders === 0);
  const targets: Target[] = [];
  for (const t of RATIO_TARGETS) {
    for (const r of empty.filter((r) => r.scenario === t.scenario && r.db === t.db)) {
      targets.push({
        measure: t.measure,
        target: `≥ ${t.min} × baseline`,
        value: `${fmt(ratio(r), 3)} × (${fmt(r.load.rps)} / ${fmt(r.baseline.rps)} req/s)`,
        met: ratio(r) >= t.min,
      });
    }
  }
  for (const r of empty.filter((r) => r.scenario === 'notify')) {
    targets.push({
      measure: `v2 notification p99, ${r.db}, ${connections} connections`,
      target: `≤ ${P99_TARGET_MS} ms at 50 connections`,
      value: `${fmt(r.load.p99, 1)} ms`,
      met: r.load.p99 <= P99_TARGET_MS && connections === 50,
    });
  }
  for (const r of empty.filter((r) => r.webhooks)) {
    const w = r.webhooks!;
    const all = w.delivered === w.events;
    targets.push({
      measure: `webhook delivery under the notification load, ${r.db}: PAID → receiver's 2xx p99`,
      target: `≤ ${WEBHOOK_DELAY_P99_TARGET_MS / 1000} s, every event delivered`,
      value: `${fmt(w.delayP99Ms)} ms (${w.delivered} of ${w.events} events delivered)`,
      met: all && w.delayP99Ms <= WEBHOOK_DELAY_P99_TARGET_MS,
    });
  }
  for (const seeded of rows.filter((r) => r.seededOrders > 0)) {
    const twin = empty.find((r) => r.scenario === seeded.scenario && r.db === seeded.db);
    if (!twin) continue;
    const change = ratio(seeded) / ratio(twin) - 1;
    const cpu = (r: Row) => fmt(r.load.serverCpuUsPerRequest ?? Number.NaN);
    // CPU per request is the steadier figure on a shared machine; throughput also catches I/O.
    const cpuChange = (seeded.load.serverCpuUsPerRequest ?? 0) / (twin.load.serverCpuUsPerRequest ?? 1) - 1;
    targets.push({
      measure: `growth: ${seeded.scenario}, ${seeded.db}, ${seeded.seededOrders} orders stored`,
      target: `within ${GROWTH_TOLERANCE * 100} % of the empty database`,
      value:
        `${fmt(ratio(seeded), 3)} × against ${fmt(ratio(twin), 3)} × empty (${change >= 0 ? '+' : ''}${fmt(change * 100, 1)} %); ` +
        `server CPU ${cpu(seeded)} against ${cpu(twin)} µs/req (${cpuChange >= 0 ? '+' : ''}${fmt(cpuChange * 100, 1)} %)`,
      met: change >= -GROWTH_TOLERANCE && cpuChange <= GROWTH_TOLERANCE,
    });
  }
  const peaks = rows.filter((r) => r.peakRssBytes !== undefined && !r.scenario.startsWith('anchor-'));
  if (peaks.length > 0) {
    const worst = peaks.reduce((a, b) => ((a.peakRssBytes ?? 0) >= (b.peakRssBytes ?? 0) ? a : b));
    targets.push({
      measure: 'Server peak RSS, any scenario',
      target: `≤ ${PEAK_RSS_TARGET_MB} MB`,
      value: `${fmt((worst.peakRssBytes ?? 0) / MB)} MB (${worst.scenario}, ${worst.db})`,
      met: (worst.peakRssBytes ?? 0) <= PEAK_RSS_TARGET_MB * MB,
    });
  }
  return targets;
}
