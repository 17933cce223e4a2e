import { parseArgs } from 'node:util';

/**
 * The four scenarios, plus `notify-nodb`: the service's notification route with a
 * verify-only handler and no database, which shows how much of the gap to the baseline is
 * HTTP + XML + signature and how much is storage.
 */
export const SCENARIOS = ['notify', 'notify-v3', 'notify-nodb', 'orders', 'login', 'duplicates'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
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
}

/**
 * Where a run writes its report. The committed bench/results.* is the record quoted in the docs,
 * so an ordinary run (a quick check, a half-finished change) must not rewrite tracked files.
 */
export function reportPaths(options: Pick<BenchOptions, 'save'>): { json: string; md: string } {
  const dir = options.save ? 'bench' : 'bench/out';
  return { json: `${dir}/results.json`, md: `${dir}/results.md` };
}

export const USAGE = `Usage: npm run bench -- [--quick] [--scenario NAME] [--db sqlite|postgres]
                           [--connections N] [--duration S] [--profile] [--save]

  --quick          short runs (the whole thing in under two minutes)
  --scenario NAME  ${SCENARIOS.join(', ')} (repeat or comma-separate for several; default all)
  --db KIND        sqlite or postgres (default both; login runs on SQLite only)
  --connections N  concurrent connections (default 50)
  --duration S     seconds of load per scenario (default 10, baselines 5; --quick 3 and 2)
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
  const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0) return { ok: false, problem: `unknown scenario ${unknown.join(', ')}` };
  const db = values.db;
  if (db !== undefined && db !== 'sqlite' && db !== 'postgres') {
    return { ok: false, problem: `--db must be sqlite or postgres (it is ${db})` };
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
      scenarios: scenarios.length > 0 ? (scenarios as ScenarioName[]) : [...SCENARIOS],
      databases: db ? [db] : ['sqlite', 'postgres'],
      connections,
      durationS,
      // A hello route's rate settles within a second or two; the budget goes to the scenarios.
      baselineDurationS: Math.min(quick ? 2 : 5, durationS),
      postgresUrl: env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test',
      profile: values.profile ?? false,
      save: values.save ?? false,
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
      save: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
}
