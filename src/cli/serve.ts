import { loadCatalogueFile } from '../catalogue/catalogue.js';
import { type Config, DEFAULTS, loadConfig } from '../config.js';
import { createService } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { parseArgs, parsePort, untilSignal } from './args.js';
import type { Env } from './index.js';

/** Reads configuration and catalogue, reporting every problem of both at once. */
export function readServiceSetup(env: Env) {
  const config = loadConfig(env);
  const catalogue = loadCatalogueFile(
    config.ok ? config.config.cataloguePath : (env.CATALOGUE_FILE ?? DEFAULTS.cataloguePath),
  );
  const problems = [...(config.ok ? [] : config.problems), ...(catalogue.ok ? [] : catalogue.problems)];
  if (!config.ok || !catalogue.ok) return { ok: false as const, problems };
  return { ok: true as const, config: config.config, catalogue: catalogue.catalogue };
}

export function printProblems(problems: string[]): void {
  process.stderr.write(
    `weapp-pay cannot start; fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
}

export async function runServe(argv: string[], env: Env): Promise<number> {
  const args = parseArgs(argv, { values: ['port', 'host'] });
  if (!args.ok) {
    process.stderr.write(`weapp-pay serve: ${args.problem}\n`);
    return 1;
  }
  const setup = readServiceSetup(env);
  if (!setup.ok) {
    printProblems(setup.problems);
    return 1;
  }
  const port = parsePort(args.values.port, setup.config.port);
  if (port === undefined) {
    process.stderr.write('weapp-pay serve: --port must be 0 to 65535\n');
    return 1;
  }
  const config: Config = { ...setup.config, port, host: args.values.host ?? setup.config.host };
  const log = createLogger(config.logLevel);
  const service = await createService({ config, catalogue: setup.catalogue, log });
  service.reconciler.start();
  const address = await service.app.listen({ port: config.port, host: config.host });
  process.stdout.write(`weapp-pay service listening on ${address} (database: ${service.database.dialect})\n`);
  await untilSignal();
  await service.close();
  return 0;
}
