/**
 * One chaos run's view of its stage: its seeded choices, its ledger (what the service told the
 * outside world during this run), the counters of what it injected, and the moves the shop-day
 * makes: calls as a user, as the admin or to the simulator, clock jumps, reconciler turns,
 * SIGKILLs and server-side connection kills.
 */
import pg from 'pg';
import { callJson, type JsonAnswer } from '../crash/json-call.js';
import { type Ledger, tapLedger } from '../crash/ledger.js';
import { createPrng, type Prng } from '../crash/prng.js';
import type { Relay } from '../crash/relay.js';
import type { TestDbHandle } from '../db/dialects.js';
import { CREDENTIALS } from '../service/harness.js';
import type { Instance } from './instances.js';
import type { Stage } from './stage.js';

/** A restart after a crash takes this long: past every claim the dead instance left (60 s). */
export const RESTART_STEP_MS = 65_000;

export interface Injected {
  faults: Record<string, number>;
  kills: number;
  connectionKills: number;
  clockJumps: number;
}

export interface ShopUser {
  token: string;
  openid: string;
}

export interface Shop {
  seed: number;
  rng: Prng;
  ledger: Ledger;
  door: Relay;
  db: TestDbHandle;
  mode: 'in-process' | 'processes';
  injected: Injected;
  /** The user an order-less call speaks for; chaos calls name their user through `as`. */
  user: ShopUser;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonAnswer>;
  admin(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<JsonAnswer>;
  sim(path: string, body?: unknown, headers?: Record<string, string>, method?: string): Promise<JsonAnswer>;
  /** The same shop, calling as `user`. */
  as(user: ShopUser): Shop;
  count(fault: string): void;
  /** Moves every clock (the simulator's and each instance's) forward. */
  jump(ms: number): Promise<void>;
  /** One cycle of each reconciler on each in-process instance; child instances run their own. */
  reconcile(): Promise<void>;
  /** SIGKILLs one instance and starts its replacement (a restart after a crash). */
  killOne(): Promise<void>;
  /** Terminates the run's own PostgreSQL sessions server-side; returns how many. */
  killConnections(): Promise<number>;
  output(): string;
  /** Stops recording the stage's traffic in this run's ledger. */
  finish(): void;
}

export function openShop(stage: Stage, seed: number): Shop {
  const rng = createPrng(seed);
  const { ledger, detach } = tapLedger(stage.door);
  const { live, db } = stage;
  const outputs: string[] = [];
  const injected: Injected = { faults: {}, kills: 0, connectionKills: 0, clockJumps: 0 };
  const processes = stage.mode === 'processes';

  const shop = (user: ShopUser): Shop => ({
    seed,
    rng,
    ledger,
    door: stage.door,
    db,
    mode: stage.mode,
    injected,
    user,
    api: (method, path, body, headers = {}) =>
      callJson(stage.door.url, method, path, body, { authorization: `Bearer ${user.token}`, ...headers }),
    admin: (method, path, body, headers = {}) =>
      callJson(stage.door.url, method, path, body, {
        authorization: `Bearer ${CREDENTIALS.adminToken}`,
        ...headers,
      }),
    sim: (path, body, headers = {}, method = body === undefined ? 'GET' : 'POST') =>
      callJson(stage.simulatorUrl, method, path, body, headers),
    as: (other) => shop(other),
    count(fault) {
      injected.faults[fault] = (injected.faults[fault] ?? 0) + 1;
    },
    async jump(ms) {
      injected.clockJumps++;
      await stage.jump(ms);
    },
    async reconcile() {
      // As the interval job does: a cycle that fails (the database went away) is logged by the
      // service and tried again next time; it is not the run's failure.
      const cycle = (run: () => Promise<unknown>) => run().catch(() => {});
      await Promise.all(
        live.map(async (i) => {
          if (!i.service) return;
          await cycle(() => (i.service as NonNullable<typeof i.service>).reconciler.runOnce());
          await cycle(() => (i.service as NonNullable<typeof i.service>).refundReconciler.runOnce());
        }),
      );
    },
    async killOne() {
      if (!processes) throw new Error('an in-process run cannot be SIGKILLed');
      if (live.length === 0) return;
      const victim = live.splice(rng.int(0, live.length - 1), 1)[0] as Instance;
      stage.publish();
      injected.kills++;
      await victim.kill();
      outputs.push(victim.output());
      // The restart lands a little later, as a supervisor's would.
      await stage.jump(RESTART_STEP_MS);
      live.push(await stage.start());
      stage.publish();
    },
    async killConnections() {
      if (db.dialect !== 'postgres') return 0;
      const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        const { rows } = await client.query<{ killed: string }>(
          `select count(pg_terminate_backend(pid)) as killed from pg_stat_activity
            where application_name = $1 and pid <> pg_backend_pid()`,
          [stage.applicationName],
        );
        const killed = Number(rows[0]?.killed ?? 0);
        injected.connectionKills += killed;
        return killed;
      } finally {
        await client.end();
      }
    },
    output: () => [...outputs, ...live.map((i) => i.output())].filter(Boolean).join('\n---\n'),
    finish: detach,
  });
  return shop({ token: '', openid: '' });
}
