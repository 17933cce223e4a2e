/**
 * Adds up chaos runs and says what happened: what was injected, what was checked and held, and
 * for each run that broke a rule, its seed and the command that replays it.
 */
import { type ChaosOptions, type ChaosReport, replayCommand } from './chaos-run.js';
import type { RunOutcome } from './slots.js';

/**
 * The rules every run is checked against (test/crash/checks.ts, refund-checks.ts and src/audit),
 * as the summary names them. A new check the chaos runs play gets its line here (the webhook
 * checks need a receiver, which only the crash scenario has).
 */
export const RULES = [
  'every notification answered SUCCESS is PAID once, with the transaction it named',
  'every order answered 201 exists, with that out_trade_no',
  'every Idempotency-Key sent again finishes the same order',
  'every order WeChat knows came from one key (no second WeChat order)',
  'every payment WeChat took is credited here (no lost payment)',
  'every credited order was paid at WeChat, by that transaction, for that amount (no forged credit)',
  'every credited order has exactly one state change into PAID',
  'every refund answered 201 exists; every refund key sent again finishes the same refund',
  'every refund at WeChat is one of ours, reached through exactly one key (no refund issued twice)',
  'WeChat never gave back more than it took; every refund settled as WeChat settled it',
  "the audit's checks: no transaction_id on two orders, no order credited twice, refunds within what was paid and at most 50, every status backed by its events, no acknowledged notification without its state change, every committed change a webhook announces has its outbox event",
];

export interface Totals {
  runs: number;
  inProcess: number;
  processes: number;
  faults: Record<string, number>;
  kills: number;
  connectionKills: number;
  clockJumps: number;
  orders: number;
  payments: number;
  refunds: number;
  violations: number;
  failed: ChaosReport[];
  errors: { seed: number; error: string }[];
}

export function emptyTotals(): Totals {
  return {
    runs: 0,
    inProcess: 0,
    processes: 0,
    faults: {},
    kills: 0,
    connectionKills: 0,
    clockJumps: 0,
    orders: 0,
    payments: 0,
    refunds: 0,
    violations: 0,
    failed: [],
    errors: [],
  };
}

export function add(totals: Totals, outcome: RunOutcome): void {
  totals.runs++;
  if ('error' in outcome) {
    totals.errors.push(outcome);
    return;
  }
  const r = outcome.report;
  if (r.mode === 'processes') totals.processes++;
  else totals.inProcess++;
  for (const [fault, n] of Object.entries(r.injected.faults))
    totals.faults[fault] = (totals.faults[fault] ?? 0) + n;
  totals.kills += r.injected.kills;
  totals.connectionKills += r.injected.connectionKills;
  totals.clockJumps += r.injected.clockJumps;
  totals.orders += r.orders;
  totals.payments += r.payments;
  totals.refunds += r.refunds;
  totals.violations += r.violations.length;
  if (r.violations.length > 0) totals.failed.push(r);
}

/** One plain line per run, for logs and CI. */
export function runLine(outcome: RunOutcome): string {
  if ('error' in outcome) return `seed ${outcome.seed} | HARNESS ERROR ${outcome.error.split('\n')[0]}`;
  const r = outcome.report;
  const faults = Object.values(r.injected.faults).reduce((a, b) => a + b, 0);
  const verdict = r.violations.length === 0 ? 'ok' : `${r.violations.length} VIOLATIONS`;
  return (
    `seed ${r.seed} | ${r.database} | ${r.mode} | ${verdict} | ${r.ms} ms | ${r.orders} orders, ` +
    `${r.payments} paid, ${r.refunds} refunds | ${faults} faults, ${r.injected.kills} kills, ` +
    `${r.injected.connectionKills} connections killed, ${r.injected.clockJumps} clock jumps`
  );
}

export function summary(totals: Totals, options: ChaosOptions, database: string, ms: number): string {
  const minutes = ms / 60_000;
  const lines = [
    '',
    `${totals.runs} runs on ${database} (${totals.inProcess} in-process, ${totals.processes} with SIGKILLs on child processes) in ${(ms / 1000).toFixed(0)} s: ${(totals.runs / minutes).toFixed(1)} runs/minute`,
    `traffic: ${totals.orders} orders, ${totals.payments} payments at WeChat, ${totals.refunds} refunds`,
    'injected:',
    ...Object.entries(totals.faults)
      .sort(([, a], [, b]) => b - a)
      .map(([fault, n]) => `  ${fault.padEnd(20)} ${n}`),
    `  ${'SIGKILL'.padEnd(20)} ${totals.kills}`,
    `  ${'connections killed'.padEnd(20)} ${totals.connectionKills}`,
    `  ${'clock jumps'.padEnd(20)} ${totals.clockJumps}`,
    `checked after every run (${totals.violations === 0 && totals.errors.length === 0 ? 'all held' : 'NOT ALL HELD'}):`,
    ...RULES.map((rule) => `  - ${rule}`),
    `violations: ${totals.violations}; harness errors: ${totals.errors.length}`,
  ];
  for (const r of totals.failed) {
    lines.push(
      '',
      `seed ${r.seed} broke ${r.violations.length} rules:`,
      ...r.violations.slice(0, 20).map((v) => `  ${v}`),
    );
    lines.push(`replay: ${replayCommand(r, options)}`);
  }
  for (const e of totals.errors) {
    lines.push('', `seed ${e.seed}: the harness failed: ${e.error}`);
    lines.push(`replay: ${replayCommand({ seed: e.seed, database }, options)}`);
  }
  return `${lines.join('\n')}\n`;
}
