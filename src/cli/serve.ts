import { loadCatalogueFile } from '../catalogue/catalogue.js';
import { type Config, DEFAULTS, loadConfig, SERVICE_VARIABLES } from '../config.js';
import { createService, type Service } from '../main.js';
import { createLogger, logDestination } from '../observability/logger.js';
import { parsePort, untilSignal } from './args.js';
import type { CommandContext, CommandSpec, Io, Options } from './command.js';
import type { Env } from './index.js';
import { certificateProblems } from './preflight.js';
import { type Listener, startupFailure } from './startup-errors.js';

/** Reads configuration, catalogue and certificate files, reporting every problem of all at once. */
export function readServiceSetup(env: Env, cwd = process.cwd()) {
  const config = loadConfig(env);
  const catalogue = loadCatalogueFile(
    config.ok ? config.config.cataloguePath : (env.CATALOGUE_FILE ?? DEFAULTS.cataloguePath),
  );
  const problems = [
    ...(config.ok ? [] : config.problems),
    ...(catalogue.ok ? [] : catalogue.problems),
    ...certificateProblems(env, cwd),
  ];
  if (!config.ok || !catalogue.ok || problems.length > 0) return { ok: false as const, problems };
  return { ok: true as const, config: config.config, catalogue: catalogue.catalogue };
}

export function printProblems(io: Io, problems: string[]): void {
  io.err(`weapp-pay cannot start; fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
}

/** How the user changes the service's port, as the failure message names it. */
export function servicePortListener(port: number, options: Options, env: Env): Listener {
  const setting =
    options.port !== undefined ? '--port' : env.PORT?.trim() ? 'PORT (or --port)' : '--port or PORT';
  return { what: 'service', port, setting };
}

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'run the payment service alone, configured from the environment (all WeChat credentials required)',
  options: [
    { flags: '--port <port>', about: 'port to listen on (default PORT, else 3000), e.g. --port 8080' },
    {
      flags: '--host <address>',
      about: 'address to listen on (default HOST, else 0.0.0.0), e.g. --host 127.0.0.1',
    },
  ],
  env: SERVICE_VARIABLES,
  examples: ['weapp-pay serve', 'weapp-pay serve --port 8080 --env-file /etc/weapp-pay.env'],
  readsSettings: true,
  run: (_args, options, context) => runServe(options, context),
};

export async function runServe(options: Options, context: CommandContext): Promise<number> {
  const { env, io } = context;
  const setup = readServiceSetup(env, context.cwd);
  if (!setup.ok) {
    printProblems(io, setup.problems);
    return 1;
  }
  const port = parsePort(options.port as string | undefined, setup.config.port);
  if (port === undefined) {
    io.err('weapp-pay serve: --port must be 0 to 65535\n');
    return 1;
  }
  const config: Config = {
    ...setup.config,
    port,
    host: (options.host as string | undefined) ?? setup.config.host,
  };
  const log = createLogger(config.logLevel, logDestination({ sync: config.logSync }));
  let service: Service | undefined;
  try {
    service = await createService({ config, catalogue: setup.catalogue, log });
    const address = await service.app.listen({ port: config.port, host: config.host });
    service.reconciler.start();
    service.webhooks.start();
    io.out(`weapp-pay service listening on ${address} (database: ${service.database.dialect})\n`);
  } catch (err) {
    await service?.close().catch(() => {});
    const listeners = [servicePortListener(port, options, env)];
    io.err(startupFailure(err, { databaseUrl: config.databaseUrl, listeners }, config.logLevel));
    return 1;
  }
  await (context.untilStopped ?? untilSignal)();
  await service.close();
  return 0;
}
