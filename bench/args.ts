import { parseArgs } from 'node:util';

/**
 * The four scenarios, plus `notify-nodb`: the service's notification route with a
 * verify-only handler and no database, which shows how much of the gap to the baseline is
 * HTTP + XML + signature and how much is storage.
 */
export const SCENARIOS = [
  'notify',
  'notify-v3',
  'notify-nodb',
  'orders',
  'login',
  'duplicates',
  'webhooks',
] as const;
/**
 * Not the service: the notification handler of the original tutorial's stack (Koa, xml-js, MD5)
 * and a plain Fastify + fast-xml-parser one, each with a durable commit per notification
 * (bench/anchors/). `--anchors` runs them beside weapp-pay's own notification scenario.
 */
export const ANCHORS = ['anchor-koa', 'anchor-fastify'] as const;
export type AnchorName = (typeof ANCHORS)[number];
export type ScenarioName = (typeof SCENARIOS)[number] | AnchorName;
export type DbKind = 'sqlite' | 'postgres';
/** `none`: a measurement without a database (notify-nodb). */
export type PlanDb = DbKind | 'none';

/** Scenarios 1, 2 and 4 run on both databases; login (3) needs no second look at PostgreSQL. */
export const DATABASES_OF: Readonly<Record<ScenarioName, readonly PlanDb[]>> = {
  notify: ['sqlite', 'postgres'],
  'notify-v3': ['sqlite', 'postgres'],
  'notify-nodb': ['none'],
  orders: ['sqlite', 'postgres'],
  login: ['sqlite'],
  duplicates: ['sqlite', 'postgres'],
  webhooks: ['sqlite', 'postgres'],
  'anchor-koa': ['sqlite'],
  'anchor-fastify': ['sqlite'],
};

export interface BenchOptions {
  quick: boolean;
  scenarios: ScenarioName[];
  /** The databases to measure; PostgreSQL is dropped (with a note) when unreachable and not asked for alone. */
  databases: DbKind[];
  connections: number;
  /** Seconds of load per scenario measurement. */
  durationS: number;
  /** Seconds of load for each baseline run (as long as the scenario's, except with --quick). */
  baselineDurationS: number;
  postgresUrl: string;
  /** Write a V8 CPU profile of each service process to bench/out/profiles. */
  profile: boolean;
  /** Overwrite the committed record (bench/results.*) instead of writing to bench/out/. */
  save: boolean;
  /**
   * Growth: notify and orders are measured twice, on an empty database and on one holding this
   * many orders already (0: not at all).
   */
  growthOrders: number;
  /** Minutes of mixed load for `--soak` (0: no soak; the scenarios run instead). */
  soakMinutes: number;
}

/** One measurement of a run: a scenario, its database, and how many orders it starts with. */
export interface PlannedMeasurement {
  scenario: ScenarioName;
  db: PlanDb;
  seedOrders: number;
}

/** Scenarios whose cost could grow with the orders already stored. */
const GROWTH_SCENARIOS: readonly ScenarioName[] = ['notify', 'orders'];
const DEFAULT_GROWTH_ORDERS = 1_000_000;

/** The measurements of a run, in order; a seeded one follows its empty-database twin. */
export function planOf(options: BenchOptions): PlannedMeasurement[] {
  return options.scenarios.flatMap((scenario) =>
    DATABASES_OF[scenario]
      .filter((db) => db === 'none' || options.databases.includes(db))
      .flatMap((db) => {
        const empty = { scenario, db, seedOrders: 0 };
        return options.growthOrders > 0 && GROWTH_SCENARIOS.includes(scenario)
          ? [empty, { ...empty, seedOrders: options.growthOrders }]
          : [empty];
      }),
  );
}

/**
 * Where a run writes its report. The committed bench/results.* is the record quoted in the docs,
 * so an ordinary run (a quick check, a half-finished change) must not rewrite tracked files.
 */
export function reportPaths(options: Pick<BenchOptions, 'save' | 'soakMinutes'>): {
  json: string;
  md: string;
} {
  const dir = options.save ? 'bench' : 'bench/out';
  const name = options.soakMinutes > 0 ? 'soak' : 'results';
  return { json: `${dir}/${name}.json`, md: `${dir}/${name}.md` };
}

export const USAGE = `Usage: npm run bench -- [--quick] [--scenario NAME] [--db sqlite|postgres]
                           [--connections N] [--duration S] [--profile] [--save]

  --quick          short runs (the whole thing in under two minutes)
  --scenario NAME  ${SCENARIOS.join(', ')} (repeat or comma-separate for several; default all)
  --anchors        also run the tutorial's stack and a plain Fastify handler (${ANCHORS.join(', ')}),
                   each in its own process; alone, it runs them beside notify on SQLite
  --db KIND        sqlite or postgres (default both; login and the anchors run on SQLite only)
  --connections N  concurrent connections (default 50)
  --duration S     seconds of load per scenario (default 10, baselines 5; --quick 3 and 2)
  --growth         measure notify and orders also against a database already holding
                   --growth-orders orders (default 1000000), beside the empty-database figures;
                   alone, it runs just those two scenarios
  --growth-orders N  how many orders to seed for --growth (a smaller count for quick runs)
  --soak           instead of the scenarios: mixed load at a steady rate for --minutes M
                   (default 10), sampling the service's memory, handles and timers
  --profile        write a CPU profile of each service process to bench/out/profiles/
  --save           update the committed record bench/results.json and .md
                   (without it the report goes to bench/out/, which git ignores)
  Environment: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
`;

export function parseBenchArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { ok: true; options: BenchOptions } | { ok: false; problem: string } {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  const scenarios = (values.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const known: readonly string[] = [...SCENARIOS, ...ANCHORS];
  const unknown = scenarios.filter((s) => !known.includes(s));
  if (unknown.length > 0) return { ok: false, problem: `unknown scenario ${unknown.join(', ')}` };
  const db = values.db;
  if (db !== undefined && db !== 'sqlite' && db !== 'postgres') {
    return { ok: false, problem: `--db must be sqlite or postgres (it is ${db})` };
  }
  const anchors = values.anchors ?? false;
  const growth = values.growth ?? values['growth-orders'] !== undefined;
  const growthOrders = growth ? Number(values['growth-orders'] ?? DEFAULT_GROWTH_ORDERS) : 0;
  if (growth && !(Number.isInteger(growthOrders) && growthOrders >= 1)) {
    return { ok: false, problem: '--growth-orders must be a whole number ≥ 1' };
  }
  // --anchors alone: weapp-pay's notification beside the two anchors, on the anchors' database.
  // --growth alone: the two scenarios it measures.
  const chosen: ScenarioName[] =
    scenarios.length > 0
      ? (scenarios as ScenarioName[])
      : anchors || growth
        ? [
            ...new Set<ScenarioName>([
              ...(anchors ? ['notify' as const] : []),
              ...(growth ? GROWTH_SCENARIOS : []),
            ]),
          ]
        : [...SCENARIOS];
  if (anchors) for (const a of ANCHORS) if (!chosen.includes(a)) chosen.push(a);
  const soakMinutes = values.soak || values.minutes !== undefined ? Number(values.minutes ?? 10) : 0;
  if ((values.soak || values.minutes !== undefined) && !(soakMinutes > 0)) {
    return { ok: false, problem: '--minutes must be a number of minutes > 0' };
  }
  const quick = values.quick ?? false;
  const connections = Number(values.connections ?? 50);
  const durationS = Number(values.duration ?? (quick ? 3 : 10));
  if (!Number.isInteger(connections) || connections < 1) return { ok: false, problem: '--connections N ≥ 1' };
  if (!(durationS > 0)) return { ok: false, problem: '--duration must be a number of seconds > 0' };
  return {
    ok: true,
    options: {
      quick,
      scenarios: chosen,
      databases: db
        ? [db]
        : (anchors && scenarios.length === 0) || soakMinutes > 0
          ? ['sqlite']
          : ['sqlite', 'postgres'],
      connections,
      durationS,
      // A hello route's rate settles within a second or two; the budget goes to the scenarios.
      baselineDurationS: Math.min(quick ? 2 : 5, durationS),
      postgresUrl: env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test',
      profile: values.profile ?? false,
      save: values.save ?? false,
      growthOrders,
      soakMinutes,
    },
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      scenario: { type: 'string', multiple: true },
      db: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      profile: { type: 'boolean' },
      anchors: { type: 'boolean' },
      growth: { type: 'boolean' },
      'growth-orders': { type: 'string' },
      soak: { type: 'boolean' },
      minutes: { type: 'string' },
      save: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}
