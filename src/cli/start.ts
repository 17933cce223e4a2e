import { resolve } from 'node:path';
import { DEFAULTS, SERVICE_VARIABLES, unknownSettings, wechatCredentials } from '../config.js';
import { loadOrCreateDemoCredentials } from '../demo/demo-credentials.js';
import { startDemo } from '../demo/start-demo.js';
import { parsePort, untilSignal } from './args.js';
import type { CommandContext, CommandSpec, Options } from './command.js';
import { printProblems, runServe, servicePortListener } from './serve.js';
import { startupFailure } from './startup-errors.js';

/** Where the demo keeps its generated credentials, next to its database in the git-ignored data/. */
export const DEMO_CREDENTIALS_FILE = 'data/demo-credentials.json';

const DEMO_ONLY = ['simulatorPort', 'timeScale', 'api'] as const;

export const startCommand: CommandSpec = {
  name: 'start',
  summary: 'serve for real when the WeChat credentials are set; the offline demo when none is',
  options: [
    { flags: '--port <port>', about: 'service port (default PORT, else 3000), e.g. --port 8080' },
    {
      flags: '--host <address>',
      about: 'address to listen on (default HOST; the demo 127.0.0.1), e.g. --host 0.0.0.0',
    },
    {
      flags: '--simulator-port <port>',
      about: 'demo only: the WeChat simulator port (default 3100), e.g. --simulator-port 3200',
    },
    {
      flags: '--time-scale <n>',
      about: 'demo only: divide notification retry waits by n (default 60), e.g. --time-scale 1',
    },
    {
      flags: '--api <version>',
      about: 'demo only: the WeChat Pay API, v3 (default; RSA, public-key mode) or v2 (XML), e.g. --api v2',
    },
  ],
  env: SERVICE_VARIABLES,
  examples: [
    'weapp-pay start                      # the demo, when no WECHAT_* credential is set',
    'weapp-pay start --port 8080 --simulator-port 8100',
    'weapp-pay start --api v2                # the demo on the XML API v2',
    'weapp-pay start --env-file ./production.env',
  ],
  readsSettings: true,
  run: (_args, options, context) => runStart(options, context),
};

/**
 * `npm start`. All four credentials set: `serve`. None set: the demo, which says so. Some but not
 * all: a mistake, refused with the list of what is missing, never a silent fall-back to the demo.
 */
export async function runStart(options: Options, context: CommandContext): Promise<number> {
  const { env, io } = context;
  const credentials = wechatCredentials(env);
  if (credentials.set.length > 0) {
    if (credentials.missing.length > 0) {
      io.err(
        `weapp-pay cannot start: ${credentials.set.join(', ')} ${credentials.set.length === 1 ? 'is' : 'are'} set but ${credentials.missing.join(', ')} ${credentials.missing.length === 1 ? 'is' : 'are'} not. ` +
          'Set all the WeChat credentials to serve for real, or none of them to run the offline demo.\n',
      );
      return 1;
    }
    const demoOnly = DEMO_ONLY.filter((name) => options[name] !== undefined);
    if (demoOnly.length > 0) {
      const flags = demoOnly.map((n) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      io.err(
        `weapp-pay start: ${flags.join(', ')} applies to the demo only, and the WeChat credentials are set.\n`,
      );
      return 1;
    }
    return runServe(options, context);
  }
  // A misspelt credential (WECHAT_APP_ID) would otherwise leave "none set" and start the demo.
  const typos = unknownSettings(env);
  if (typos.length > 0) {
    printProblems(io, typos);
    return 1;
  }
  return runDemo(options, context);
}

async function runDemo(options: Options, context: CommandContext): Promise<number> {
  const { env, io } = context;
  const port = parsePort((options.port as string | undefined) ?? env.PORT?.trim(), 3000);
  const simulatorPort = parsePort(options.simulatorPort as string | undefined, 3100);
  const timeScale = Number(options.timeScale ?? 60);
  const apiVersion = (options.api as string | undefined) ?? 'v3';
  if (apiVersion !== 'v2' && apiVersion !== 'v3') {
    io.err(`weapp-pay start: --api must be v2 or v3 (it is ${apiVersion})\n`);
    return 1;
  }
  if (port === undefined || simulatorPort === undefined || !(timeScale > 0)) {
    io.err('weapp-pay start: ports must be 0 to 65535 and --time-scale a positive number\n');
    return 1;
  }
  if (port !== 0 && port === simulatorPort) {
    io.err(
      `weapp-pay start: the service and the simulator cannot share port ${port}; change --port or --simulator-port.\n`,
    );
    return 1;
  }
  const databaseUrl = env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl;
  const listeners = [
    servicePortListener(port, options, env),
    { what: 'WeChat simulator', port: simulatorPort, setting: '--simulator-port' },
  ];
  io.out(
    'No WECHAT_* credentials are set, so this is the offline demo (set all the WeChat credentials to serve for real).\n',
  );
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    const kept = loadOrCreateDemoCredentials(resolve(context.cwd, DEMO_CREDENTIALS_FILE));
    if (kept.replaced)
      io.err(`note: ${DEMO_CREDENTIALS_FILE} was unusable (${kept.replaced}); made new demo credentials\n`);
    demo = await startDemo({
      port,
      simulatorPort,
      host: (options.host as string | undefined) ?? env.HOST?.trim() ?? '127.0.0.1',
      databaseUrl,
      timeScale,
      credentials: kept.credentials,
      apiVersion,
    });
  } catch (err) {
    io.err(startupFailure(err, { databaseUrl, listeners }, env.LOG_LEVEL?.trim()));
    return 1;
  }
  io.out(
    [
      '',
      `  Browser demo     ${demo.serviceUrl}/`,
      `  Service API      ${demo.serviceUrl}/api   (database: ${demo.database.dialect})`,
      `  WeChat simulator ${demo.simulatorUrl}   (appid ${demo.appid}; retries ${timeScale}x faster)`,
      `  WeChat Pay API   ${apiVersion}${apiVersion === 'v3' ? '   (RSA, public-key mode; npm start -- --api v2 for the XML API)' : ''}`,
      `  Admin token      ${demo.adminToken}   (for /docs, /metrics and /admin; demo only)`,
      `  Demo credentials ${DEMO_CREDENTIALS_FILE}   (kept so a restarted demo settles its earlier orders)`,
      '',
      'Walk through it with curl: see "Try it with curl" in README.md. Ctrl-C stops both.',
      'In a second terminal here: `npx weapp-pay logs --follow`, then `npx weapp-pay trigger payment.succeeded`.',
      '',
    ].join('\n'),
  );
  await (context.untilStopped ?? untilSignal)();
  await demo.close();
  return 0;
}
