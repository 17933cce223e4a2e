/**
 * What a chaos run plays on: a database, the simulator of WeChat on its clock, a relay in front
 * of the service (the URL WeChat notifies and clients call), and one or two service instances.
 *
 * - An in-process stage lives for many runs: between two runs its tables are emptied, the
 *   simulator forgets everything and the frozen clock goes back to where it started, so every
 *   run begins from the same state while no service is started twice (starting one costs more
 *   than a whole run).
 * - A stage of child processes (runs that SIGKILL) is made for one run, on a fresh database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { type DbHandle, openDatabase } from '../../src/db/open.js';
import { createSimClock, createSimulator, type SimClock } from '../../src/simulator/index.js';
import { type Relay, startRelay } from '../crash/relay.js';
import { serviceEnv } from '../crash/service-env.js';
import type { TestDatabase, TestDbHandle } from '../db/dialects.js';
import { CATALOGUE, SIM_MERCHANTS, V3_CREDENTIALS } from '../service/harness.js';
import { type Instance, startChild, startInProcess, startRetrying } from './instances.js';

/** Where the frozen clock of an in-process stage starts, every run. */
const START_MS = Date.UTC(2026, 0, 5, 2, 0, 0);
/** The service's timeout for WeChat calls: short, so a HANG costs a run little. */
const WECHAT_TIMEOUT_MS = 500;

export interface Stage {
  mode: 'in-process' | 'processes';
  /** The checker's own handle on the run's database. */
  db: TestDbHandle;
  door: Relay;
  simulatorUrl: string;
  clock: SimClock;
  live: Instance[];
  /** `application_name` of the service's PostgreSQL sessions: what connection kills are scoped to. */
  applicationName: string;
  /** Starts one more instance (a restart), at the stage's current clock. */
  start(): Promise<Instance>;
  /** Points the relay at the live instances. */
  publish(): void;
  /** Moves the simulator's clock and every instance's. */
  jump(ms: number): Promise<void>;
  /** Makes the stage as new for the next run (in-process stages only). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A catalogue file for child instances, written once per process. */
let catalogueFile: string | undefined;
function catalogue(): string {
  if (catalogueFile) return catalogueFile;
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-chaos-'));
  catalogueFile = join(dir, 'catalogue.json');
  writeFileSync(catalogueFile, JSON.stringify(CATALOGUE));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return catalogueFile;
}

function withApplicationName(url: string, name: string): string {
  if (!url.startsWith('postgres')) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

let stages = 0;

export async function openStage(
  database: TestDatabase,
  options: { instances: number; processes: boolean },
): Promise<Stage> {
  const { processes } = options;
  const db = await database.openMigrated();
  const clock = processes ? createSimClock({}) : createSimClock({ startMs: START_MS, frozen: true });
  const simulator = createSimulator({
    merchants: SIM_MERCHANTS,
    v3PrivateKey: V3_CREDENTIALS.payPrivateKey,
    clock,
    behaviour: { notifyTimeoutMs: 1500, loginRateLimitPerMinute: 100_000, refundDelaySeconds: 5 },
  });
  const { url: simulatorUrl } = await simulator.listen({ port: 0, host: '127.0.0.1' });
  const door = await startRelay();
  const applicationName = `weapp-pay-chaos-${process.pid}-${++stages}`;
  const serviceUrl = withApplicationName(db.url, applicationName);
  // In-process instances share one handle of their own (never the checker's), under the
  // stage's application_name, so connection kills reach them and nothing else.
  const serviceDb: DbHandle | undefined = processes ? undefined : await openDatabase(serviceUrl);
  const env = serviceEnv({
    databaseUrl: serviceUrl,
    doorUrl: door.url,
    payUrl: simulatorUrl,
    loginUrl: simulatorUrl,
    catalogueFile: catalogue(),
    timeoutMs: WECHAT_TIMEOUT_MS,
    reconcile: { afterSeconds: 60, intervalSeconds: 1 },
  });
  let offsetMs = 0;
  const live: Instance[] = [];
  const stage: Stage = {
    mode: processes ? 'processes' : 'in-process',
    db,
    door,
    simulatorUrl,
    clock,
    live,
    applicationName,
    start: () =>
      startRetrying(() =>
        processes ? startChild(env, offsetMs) : startInProcess(env, clock, serviceDb as DbHandle),
      ),
    publish: () => door.setUpstreams(live.map((i) => i.url)),
    async jump(ms) {
      await clock.advance(ms);
      offsetMs += ms;
      await Promise.all(live.map((i) => i.setClockOffset(offsetMs)));
    },
    async reset() {
      if (processes) throw new Error('a stage of child processes serves one run');
      await fetch(`${simulatorUrl}/sim/reset`, { method: 'POST' }).then((r) => r.arrayBuffer());
      clock.resetOffset();
      await emptyTables(db);
    },
    async close() {
      await Promise.all(live.splice(0).map((i) => i.stop().catch(() => i.kill())));
      await serviceDb?.close();
      await door.close();
      await simulator.close();
      clock.close();
      await db.close();
    },
  };
  try {
    live.push(...(await Promise.all(Array.from({ length: options.instances }, () => stage.start()))));
  } catch (err) {
    await stage.close();
    throw err;
  }
  stage.publish();
  return stage;
}

/** Deletes every row but the migrations' own. */
async function emptyTables(db: TestDbHandle): Promise<void> {
  if (db.dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select tablename as name from pg_tables
      where schemaname = current_schema() and tablename not like 'kysely_%'`.execute(db.db);
    const list = rows.map((r) => `"${r.name}"`).join(', ');
    if (list) await sql.raw(`truncate table ${list} restart identity cascade`).execute(db.db);
    return;
  }
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master
    where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'`.execute(db.db);
  // Rows reference each other; the order of deletion does not matter with the check off.
  await sql`pragma foreign_keys = off`.execute(db.db);
  try {
    for (const { name } of rows) await sql.raw(`delete from "${name}"`).execute(db.db);
  } finally {
    await sql`pragma foreign_keys = on`.execute(db.db);
  }
}
