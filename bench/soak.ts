/**
 * `npm run bench -- --soak [--minutes M]`: the service under a steady mixed load for M minutes
 * (notifications, order creation through the simulator, logins, order look-ups), at a fixed rate
 * well below saturation, so what is measured is what stays behind: memory and the active handles
 * and timers, sampled inside the service every five seconds (bench/soak-probe.mjs).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from './args.js';
import { createBenchDatabase, OUT_DIR } from './databases.js';
import { type LoadResult, type NextRequest, runLoad } from './load.js';
import { loginCodes, loginUsers, prepareOrders } from './prepare.js';
import { startService, startSimulator } from './processes.js';
import { analyzeSoak, type SoakAnalysis, type SoakSample } from './soak-analysis.js';
import { checkCredits } from './verify.js';

export interface SoakResult {
  minutes: number;
  rate: number;
  load: LoadResult;
  mix: Record<string, number>;
  analysis: SoakAnalysis;
  /** VmHWM of the service process at the end. */
  peakRssBytes: number | undefined;
  check: { ok: boolean; summary: string };
}

/** Requests per second in total: a busy shop, far from what the service can take on this machine. */
export const SOAK_RATE = 200;
/** One turn of the mix: 4 notifications, 2 orders, 1 login and 3 look-ups of an order in 10. */
const MIX = [
  'notify',
  'notify',
  'order',
  'query',
  'notify',
  'login',
  'query',
  'order',
  'notify',
  'query',
] as const;
type Kind = (typeof MIX)[number];
const USERS = 20;

export async function runSoak(options: BenchOptions, minutes: number, log: (line: string) => void) {
  const seconds = minutes * 60;
  const database = await createBenchDatabase(options.databases[0] ?? 'sqlite', options.postgresUrl);
  const probeFile = join(OUT_DIR, `soak-probe-${process.pid}.jsonl`);
  rmSync(probeFile, { force: true });
  const share = (kind: Kind) => MIX.filter((k) => k === kind).length / MIX.length;
  try {
    const setup = await database.openForSetup();
    const notifications = await prepareOrders(setup, Math.ceil(SOAK_RATE * seconds * share('notify') * 1.2));
    await setup.close();
    const simulator = await startSimulator();
    const service = await startService(database.url, simulator.url, undefined, 'v2', { probeFile });
    const counts: Record<string, number> = {};
    const acknowledged = new Set<number>();
    let load: LoadResult;
    let peakRssBytes: number | undefined;
    let refilling = true;
    try {
      const tokens = await loginUsers(service.url, simulator.url, USERS);
      // Login codes are single-use and expire, so they are fetched while the soak runs.
      const codes = await loginCodes(simulator.url, 200, 4);
      const refill = (async () => {
        while (refilling) {
          if (codes.length < 100) codes.push(...(await loginCodes(simulator.url, 100, 2)));
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const created: { token: string; id: string }[] = [];
      let turn = 0;
      let notified = 0;
      log(`soak: ${minutes} min at ${SOAK_RATE} req/s, ${options.connections} connections, ${database.kind}`);
      load = await runLoad({
        url: service.url,
        server: service,
        connections: options.connections,
        durationS: seconds,
        overallRate: SOAK_RATE,
        next(context) {
          let kind: Kind = MIX[turn++ % MIX.length]!;
          if (kind === 'login' && codes.length === 0) kind = 'query';
          if (kind === 'query' && created.length === 0) kind = 'order';
          if (kind === 'notify' && notified >= notifications.length) kind = 'query';
          counts[kind] = (counts[kind] ?? 0) + 1;
          context.kind = kind;
          const token = tokens[turn % tokens.length]!;
          const json = { 'content-type': 'application/json' };
          const request: Record<Kind, () => NextRequest> = {
            notify: () => {
              context.index = notified;
              const o = notifications[notified++]!;
              return { path: '/payment/wxnotify', method: 'POST', headers: o.headers, body: o.body };
            },
            order: () => ({
              path: '/api/orders',
              method: 'POST',
              headers: { ...json, authorization: `Bearer ${token}`, 'idempotency-key': `soak-${turn}` },
              body: '{"sku":"coffee-americano","quantity":1}',
            }),
            login: () => ({
              path: '/api/login',
              method: 'POST',
              headers: json,
              body: JSON.stringify({ code: codes.shift() }),
            }),
            query: () => {
              const o = created[turn % created.length]!;
              return {
                path: `/api/orders/${o.id}`,
                method: 'GET',
                headers: { authorization: `Bearer ${o.token}` },
              };
            },
          };
          const chosen = request[kind]();
          if (kind === 'order') context.token = token;
          return chosen;
        },
        onResponse(status, body, context) {
          if (context.kind === 'notify' && status === 200 && body.includes('SUCCESS')) {
            acknowledged.add(context.index as number);
          } else if (context.kind === 'order' && status === 201) {
            const id = (JSON.parse(body) as { order: { id: string } }).order.id;
            // The most recent thousand orders are the ones looked up, as a shop's customers do.
            created.push({ token: context.token as string, id });
            if (created.length > 1000) created.shift();
          }
        },
      });
      refilling = false;
      await refill;
    } finally {
      refilling = false;
      peakRssBytes = service.peakRss();
      await service.stop();
      await simulator.stop();
    }
    const samples = readSamples(probeFile);
    const check = await database.openForSetup();
    try {
      const credits = await checkCredits(check, notifications, acknowledged);
      const ok = credits.ok && load.failures === 0;
      return {
        minutes,
        rate: SOAK_RATE,
        load,
        mix: counts,
        analysis: analyzeSoak(samples, seconds),
        peakRssBytes,
        check: {
          ok,
          summary: `${load.failures} failed requests${load.failureDetail ? ` (${load.failureDetail})` : ''}; ${credits.summary}`,
        },
      } satisfies SoakResult;
    } finally {
      await check.close();
    }
  } finally {
    rmSync(probeFile, { force: true });
    await database.drop();
  }
}

function readSamples(file: string): SoakSample[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as SoakSample);
  } catch {
    return [];
  }
}
