/**
 * What a soak's samples say: how much RSS grew once the service had warmed up, its peak, and
 * whether any kind of active resource (sockets, timers, file requests) kept growing. Means over
 * a stretch of samples, not single samples, so one garbage collection does not decide it.
 */

export interface SoakSample {
  /** Seconds since the probe started. */
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** process.getActiveResourcesInfo(), counted by type. */
  resources: Record<string, number>;
}

export interface ResourceTrend {
  type: string;
  /** Mean count over the first and the last quarter after warm-up, and the highest seen. */
  early: number;
  late: number;
  max: number;
  /** The lowest count in the first and in the last quarter after warm-up: what stays. */
  earlyFloor: number;
  lateFloor: number;
  /** The floor rose: more than a couple, and more than 10 %. */
  grows: boolean;
}

export interface SoakAnalysis {
  samples: number;
  warmupS: number;
  /** Mean RSS over the tenth of the run right after warm-up, and over the last tenth. */
  rssAfterWarmup: number;
  rssAtEnd: number;
  /** rssAtEnd / rssAfterWarmup − 1. */
  rssGrowth: number;
  peakRss: number;
  heapAfterWarmup: number;
  heapAtEnd: number;
  resources: ResourceTrend[];
  /** Every sample's RSS and heap in MB, to see whether a rise levels off. */
  series: { t: number; rssMb: number; heapMb: number }[];
}

export const RSS_GROWTH_TARGET = 0.1;
export const PEAK_RSS_TARGET_BYTES = 200 * 1024 * 1024;

/** A fifth of the run, at least 30 s and at most two minutes: JIT, pools and caches fill first. */
export function warmupSeconds(durationS: number): number {
  return Math.min(120, Math.max(30, durationS * 0.2));
}

const round = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

export function analyzeSoak(samples: readonly SoakSample[], durationS: number): SoakAnalysis {
  const warmupS = warmupSeconds(durationS);
  const after = samples.filter((s) => s.t >= warmupS);
  const steady = after.length >= 4 ? after : samples;
  const tenth = Math.max(1, Math.round(steady.length / 10));
  const quarter = Math.max(1, Math.round(steady.length / 4));
  const mean = (xs: readonly SoakSample[], f: (s: SoakSample) => number) =>
    xs.length === 0 ? 0 : xs.reduce((sum, s) => sum + f(s), 0) / xs.length;
  const first = steady.slice(0, tenth);
  const last = steady.slice(-tenth);
  const rssAfterWarmup = mean(first, (s) => s.rss);
  const rssAtEnd = mean(last, (s) => s.rss);
  const types = [...new Set(samples.flatMap((s) => Object.keys(s.resources)))].sort();
  const resources = types.map((type) => {
    const count = (s: SoakSample) => s.resources[type] ?? 0;
    const [head, tail] = [steady.slice(0, quarter), steady.slice(-quarter)];
    const early = mean(head, count);
    const late = mean(tail, count);
    const max = Math.max(0, ...samples.map(count));
    // A sample counts what is active at that instant, and most of it comes and goes with the
    // load: sockets, the timers of calls in flight, the setImmediate of a batch about to run.
    // What leaks stays, so it raises the lowest count; the work in flight does not (its count
    // moved from 0 to 0–8 in one soak when the sampling instant drifted into the busy part of the
    // load's cycle). Growth: the floor rose by more than a couple and more than 10 %.
    const earlyFloor = Math.min(...head.map(count));
    const lateFloor = Math.min(...tail.map(count));
    const grows = lateFloor - earlyFloor > Math.max(2, earlyFloor * 0.1);
    return { type, early, late, max, earlyFloor, lateFloor, grows };
  });
  return {
    samples: samples.length,
    warmupS,
    rssAfterWarmup,
    rssAtEnd,
    rssGrowth: rssAfterWarmup > 0 ? rssAtEnd / rssAfterWarmup - 1 : 0,
    peakRss: Math.max(0, ...samples.map((s) => s.rss)),
    heapAfterWarmup: mean(first, (s) => s.heapUsed),
    heapAtEnd: mean(last, (s) => s.heapUsed),
    resources,
    series: samples.map((s) => ({ t: s.t, rssMb: round(s.rss), heapMb: round(s.heapUsed) })),
  };
}
