/**
 * One chaos run: a fresh database, a shop, a random day from the seed, the settling, and every
 * check of the crash runs (src/audit's checks among them) against what the run's clients and
 * WeChat were told. The report says what was injected and what broke.
 */
import { violations } from '../crash/checks.js';
import { createPrng } from '../crash/prng.js';
import type { TestDatabase } from '../db/dialects.js';
import { settle } from './settle.js';
import { type Injected, openShop } from './shop.js';
import { playDay } from './shop-day.js';
import { openStage, type Stage } from './stage.js';

export interface ChaosOptions {
  instances: number;
  /** The share of runs played on child processes with SIGKILLs (the rest run in-process). */
  killShare: number;
  /** Waves of actions in the day. */
  waves: number;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = { instances: 1, killShare: 0.1, waves: 10 };

export interface ChaosReport {
  seed: number;
  database: string;
  mode: 'in-process' | 'processes';
  injected: Injected;
  orders: number;
  payments: number;
  refunds: number;
  violations: string[];
  ms: number;
  /** What the instances logged last, when something broke. */
  output: string;
}

/** Whether a seed's run kills: drawn apart from the day's plan, so the share never shifts the plan. */
export function killsIn(seed: number, killShare: number): boolean {
  return createPrng(seed ^ 0x2545f491).next() < killShare;
}

/**
 * Runs one seed. A run that kills gets a stage of child processes of its own; the others play on
 * `reusable` (an in-process stage kept for many runs) when given, else on a fresh one.
 */
export async function runChaos(
  seed: number,
  database: TestDatabase,
  options: ChaosOptions,
  reusable?: Stage,
): Promise<ChaosReport> {
  const started = Date.now();
  const processes = killsIn(seed, options.killShare);
  const own = processes || !reusable;
  const stage = own ? await openStage(database, { instances: options.instances, processes }) : reusable;
  try {
    if (!own) await stage.reset();
    const shop = openShop(stage, seed);
    try {
      const day = await playDay(shop, options.waves);
      const facts = await settle(shop, day);
      const found = violations(facts);
      return {
        seed,
        database: database.name,
        mode: shop.mode,
        injected: shop.injected,
        orders: facts.orders.size,
        payments: facts.wechat.filter((w) => w.transaction_id !== null).length,
        refunds: facts.refunds.length,
        violations: found,
        ms: Date.now() - started,
        output: found.length > 0 ? shop.output() : '',
      };
    } finally {
      shop.finish();
    }
  } finally {
    if (own) await stage.close();
  }
}

/** The one-line command that replays a run exactly (the same plan from the same seed). */
export function replayCommand(report: Pick<ChaosReport, 'seed' | 'database'>, options: ChaosOptions): string {
  return `npm run chaos -- --seed ${report.seed} --runs 1 --db ${report.database} --instances ${options.instances} --kill-share ${options.killShare} --waves ${options.waves}`;
}
