import { KNOWN_VARIABLES } from '../config.js';
import { AppError } from '../errors.js';
import { createService, type Service } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { formatReconciliation } from '../reconcile/format.js';
import type { CommandSpec } from './command.js';
import { createProgress } from './progress.js';
import { reconcileProgress } from './reconcile-progress.js';
import { printProblems, readServiceSetup } from './serve.js';
import { startupFailure } from './startup-errors.js';

/** Exit codes: 0 clean or settled, 1 findings that need a person, 2 the run could not be done. */
export const RECONCILE_EXIT = { ok: 0, needsAttention: 1, error: 2 } as const;

/**
 * `weapp-pay reconcile --date YYYY-MM-DD [--json]`: one day's WeChat trade bill against our
 * orders and refunds, with the service's own settings and code (the run is the service's
 * reconcileDay, as the daily job and POST /admin/reconciliations run it). Progress on stderr,
 * the report on stdout.
 */
export const reconcileCommand: CommandSpec = {
  name: 'reconcile',
  summary:
    "compare one day's WeChat trade bill with our orders and refunds; exits 1 when a finding needs a person, 2 on errors",
  options: [
    {
      flags: '--date <date>',
      about: 'the bill date, a finished day in Beijing time (required), e.g. --date 2024-01-01',
    },
    { flags: '--json', about: 'print the report as JSON on stdout, e.g. --json | jq .counts' },
  ],
  env: KNOWN_VARIABLES,
  examples: [
    'weapp-pay reconcile --date 2024-01-01',
    'weapp-pay reconcile --date "$(date -d yesterday +%F)" --json --env-file /etc/weapp-pay.env',
  ],
  readsSettings: true,
  usageExitCode: RECONCILE_EXIT.error,
  async run(_args, options, { env, io, cwd }) {
    const date = options.date;
    if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      io.err('weapp-pay reconcile: --date YYYY-MM-DD is required, e.g. --date 2024-01-01\n');
      return RECONCILE_EXIT.error;
    }
    const setup = readServiceSetup(env, cwd);
    if (!setup.ok) {
      printProblems(io, setup.problems);
      return RECONCILE_EXIT.error;
    }
    const { config } = setup;
    // Logs go to stderr with the progress, so stdout holds the report alone (--json | jq works).
    const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
    let service: Service | undefined;
    try {
      service = await createService({ config, catalogue: setup.catalogue, log });
      const progress = reconcileProgress(
        createProgress({ stream: { write: (text) => io.err(text), isTTY: Boolean(process.stderr.isTTY) } }),
      );
      const report = await service.reconcileDay(date, progress.update).finally(progress.done);
      io.out(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReconciliation(report));
      return report.status === 'needs_attention' ? RECONCILE_EXIT.needsAttention : RECONCILE_EXIT.ok;
    } catch (err) {
      if (err instanceof AppError) io.err(`weapp-pay reconcile: ${err.message} (${err.code})\n`);
      else if (service) io.err(`weapp-pay reconcile: the run failed: ${(err as Error).message}\n`);
      else io.err(startupFailure(err, { databaseUrl: config.databaseUrl }, config.logLevel));
      return RECONCILE_EXIT.error;
    } finally {
      await service?.close().catch(() => {});
    }
  },
};
