/**
 * Everything a crash run stands on: the simulator (in this process, on a running clock), the
 * database, a relay in front of the service instances (the URL WeChat notifies and the client
 * calls), a relay in front of the simulator (so a kill can land while unifiedorder is in
 * flight), and the child processes of the service itself. Instances come and go; the database,
 * the simulator and the relays stay for the whole run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimClock, createSimulator } from '../../src/simulator/index.js';
import type { TestDbHandle } from '../db/dialects.js';
import { CATALOGUE, CREDENTIALS, SIM_MERCHANTS } from '../service/harness.js';
import { callJson, type JsonAnswer } from './json-call.js';
import { createLedger, type Ledger } from './ledger.js';
import { createPrng, type Prng } from './prng.js';
import { type Relay, startRelay } from './relay.js';
import { serviceEnv } from './service-env.js';
import { type ServiceProcess, startServiceProcess } from './service-process.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/** Each restart runs this much later than the last: past every claim a dead instance left (60 s). */
export const RESTART_CLOCK_STEP_MS = 65_000;

export type { JsonAnswer };

export interface World {
  db: TestDbHandle;
  rng: Prng;
  ledger: Ledger;
  door: Relay;
  wechat: Relay;
  simulatorUrl: string;
  /** The shop's webhook receiver, when the scenario configures WEBHOOK_URL at it. */
  webhooks?: WebhookReceiver;
  live: ServiceProcess[];
  /** SIGKILLs that landed on a live instance. */
  kills: number;
  /** The user every order belongs to; logged in once, the session survives restarts. */
  user: { token: string; openid: string };
  /**
   * Starts `count` instances for the next round without sending them traffic yet, as a
   * supervisor's standby would be: their start-up (seconds on a busy machine) overlaps the
   * current round. `recovery` turns the reconciler up.
   */
  prepare(count: number, options?: { recovery?: boolean }): Promise<ServiceProcess[]>;
  /** Sends traffic to prepared instances. */
  goLive(prepared: Promise<ServiceProcess[]>): Promise<void>;
  /** SIGKILLs one instance now (the signal is sent before this returns its promise). */
  kill(instance: ServiceProcess): Promise<void>;
  stopAll(): Promise<void>;
  /** A call through the service's relay, as the mini program makes it. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonAnswer>;
  sim(path: string, body?: unknown): Promise<JsonAnswer>;
  /** A call through the service's relay with the admin token, as the console makes it. */
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonAnswer>;
  /** What the dead instances printed last, for a failure message. */
  output(): string;
  close(): Promise<void>;
}

/** A secret of the 24 characters WEBHOOK_SECRET asks for at least. */
const WEBHOOK_SECRET = 'whsec_crash_run_receiver_secret';

export async function createWorld(
  db: TestDbHandle,
  seed: number,
  options: { webhooks?: boolean } = {},
): Promise<World> {
  const rng = createPrng(seed);
  // Latency draws happen in whatever order requests arrive, so they get a generator of their
  // own and never shift the plan drawn from `rng`.
  const jitter = createPrng(seed ^ 0x5bd1e995);
  const clock = createSimClock({});
  const simulator = createSimulator({
    merchants: SIM_MERCHANTS,
    clock,
    // One delivery attempt per payment: whatever a kill makes the service miss, only the
    // reconciler can find again (no lost payment), not WeChat's 15-second retry.
    behaviour: {
      notifyRetrySchedule: [],
      notifyTimeoutMs: 3000,
      loginRateLimitPerMinute: 10_000,
      // A refund succeeds (and is notified) a moment after WeChat accepts it, so kills land
      // between the acceptance and the notification too.
      refundDelaySeconds: 0.05,
    },
  });
  const { url: simulatorUrl } = await simulator.listen({ port: 0, host: '127.0.0.1' });
  const door = await startRelay();
  // A few milliseconds each way, so kills find unifiedorder calls in flight.
  const wechat = await startRelay({ latencyMs: () => jitter.int(2, 12) });
  wechat.setUpstreams([simulatorUrl]);
  const ledger = createLedger(door);
  const webhooks = options.webhooks ? await startWebhookReceiver(WEBHOOK_SECRET) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-crash-'));
  const catalogueFile = join(dir, 'catalogue.json');
  writeFileSync(catalogueFile, JSON.stringify(CATALOGUE));

  let restarts = 0;
  const live: ServiceProcess[] = [];
  const standby: Promise<ServiceProcess[]>[] = [];
  const outputs: string[] = [];
  const publish = () => door.setUpstreams(live.map((p) => p.url));

  // During the load the reconciler stays out of the way; after the last restart it queries
  // every order older than a second, once a second.
  const env = (recovery: boolean) => ({
    ...serviceEnv({
      databaseUrl: db.url,
      doorUrl: door.url,
      payUrl: wechat.url,
      loginUrl: simulatorUrl,
      catalogueFile,
      reconcile: { afterSeconds: recovery ? 1 : 3600, intervalSeconds: 1 },
    }),
    ...(webhooks ? { WEBHOOK_URL: webhooks.url, WEBHOOK_SECRET: webhooks.secret } : {}),
  });

  const world: World = {
    db,
    rng,
    ledger,
    door,
    wechat,
    simulatorUrl,
    webhooks,
    live,
    kills: 0,
    user: { token: '', openid: '' },
    prepare(count, options = {}) {
      const clockOffsetMs = restarts++ * RESTART_CLOCK_STEP_MS;
      const starting = Promise.allSettled(
        Array.from({ length: count }, () =>
          startServiceProcess(env(options.recovery ?? false), { clockOffsetMs }),
        ),
      ).then(async (results) => {
        const up = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const failed = results.find((r) => r.status === 'rejected');
        if (failed === undefined) return up;
        await Promise.all(up.map((p) => p.kill()));
        throw failed.reason;
      });
      // Nobody awaits a standby until its round: its failure is reported then, not as a crash.
      starting.catch(() => {});
      standby.push(starting);
      return starting;
    },
    async goLive(prepared) {
      standby.splice(standby.indexOf(prepared), 1);
      live.push(...(await prepared));
      publish();
    },
    kill(instance) {
      const index = live.indexOf(instance);
      if (index < 0) return Promise.resolve();
      live.splice(index, 1);
      world.kills++;
      const dead = instance.kill();
      publish();
      return dead.then(() => {
        outputs.push(instance.output());
      });
    },
    async stopAll() {
      const stopping = live.splice(0);
      publish();
      await Promise.all(stopping.map((p) => p.stop()));
      outputs.push(...stopping.map((p) => p.output()));
    },
    api(method, path, body, headers = {}) {
      return callJson(door.url, method, path, body, {
        authorization: `Bearer ${world.user.token}`,
        ...headers,
      });
    },
    admin: (method, path, body, headers = {}) =>
      callJson(door.url, method, path, body, {
        authorization: `Bearer ${CREDENTIALS.adminToken}`,
        ...headers,
      }),
    sim: (path, body) => callJson(simulatorUrl, body === undefined ? 'GET' : 'POST', path, body),
    output: () => outputs.filter(Boolean).join('\n---\n'),
    async close() {
      const waiting = await Promise.allSettled(standby.splice(0));
      const spare = waiting.flatMap((w) => (w.status === 'fulfilled' ? w.value : []));
      await Promise.all([...live.splice(0), ...spare].map((p) => p.kill()));
      await door.close();
      await wechat.close();
      await simulator.close();
      await webhooks?.close();
      clock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Plays wx.login, then POST /api/login through the relay. */
export async function logIn(world: World): Promise<void> {
  const { json } = await world.sim('/sim/login', { appid: CREDENTIALS.appid });
  const { code, openid } = json as { code: string; openid: string };
  const res = await world.api('POST', '/api/login', { code });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.json)}`);
  world.user = { token: (res.json as { token: string }).token, openid };
}
