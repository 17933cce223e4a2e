/**
 * The two kinds of service instance a chaos run uses, behind one shape:
 *
 * - in-process: createService() from the same environment a child would get, on the run's
 *   frozen clock. Cheap (no process start), so most runs use it; it cannot be SIGKILLed.
 * - a child process (test/crash/service-process.ts): the built CLI, SIGKILLed for real. Runs
 *   that kill use these, on a running clock moved through the instance's preload.
 */
import { Writable } from 'node:stream';
import { parseCatalogue } from '../../src/catalogue/catalogue.js';
import { loadConfig } from '../../src/config.js';
import type { DbHandle } from '../../src/db/open.js';
import { createService, type Service } from '../../src/main.js';
import { createLogger } from '../../src/observability/logger.js';
import type { SimClock } from '../../src/simulator/sim-clock.js';
import { startServiceProcess } from '../crash/service-process.js';
import { CATALOGUE } from '../service/harness.js';

export interface Instance {
  url: string;
  /** The in-process service, whose reconcilers the run drives itself; absent for a child. */
  service?: Service;
  /** SIGKILL (a child) or an abrupt close (in-process), then wait until it is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  setClockOffset(offsetMs: number): Promise<void>;
  /** The last lines it logged, for a failure message. */
  output(): string;
}

const catalogue = (() => {
  const parsed = parseCatalogue(CATALOGUE);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.catalogue;
})();

/**
 * Starts an instance, again when its start-up migration met the test databases' known race:
 * Kysely's migrator lists the tables of every schema, and another run dropping its own schema
 * at that moment fails the listing ("schema … does not exist", 3F000). Nothing was migrated.
 */
export async function startRetrying(start: () => Promise<Instance>): Promise<Instance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/schema "[^"]+" does not exist/.test((err as Error).message)) throw err;
    }
  }
}

/** An in-process service on `database`, listening on a port of its own. */
export async function startInProcess(
  env: Record<string, string>,
  clock: SimClock,
  database: DbHandle,
): Promise<Instance> {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk).trimEnd());
      if (lines.length > 40) lines.shift();
      done();
    },
  });
  const service = await createService({
    config: loaded.config,
    catalogue,
    log: createLogger('warn', sink),
    clock,
    database,
    // Retries still happen; only their back-off waits are skipped, as in every service test.
    sleep: async () => {},
  });
  const url = await service.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    service,
    kill: () => service.close(),
    stop: () => service.close(),
    setClockOffset: async () => {},
    output: () => lines.join('\n'),
  };
}

/** A child process of the built CLI, `offsetMs` ahead of real time. */
export async function startChild(env: Record<string, string>, offsetMs: number): Promise<Instance> {
  const child = await startServiceProcess(env, { clockOffsetMs: offsetMs });
  return {
    url: child.url,
    kill: () => child.kill(),
    stop: () => child.stop(),
    setClockOffset: (ms) => child.setClockOffset(ms),
    output: () => child.output(),
  };
}
