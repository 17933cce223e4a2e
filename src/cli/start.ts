import { hasWechatCredentials } from '../config.js';
import { startDemo } from '../demo/start-demo.js';
import { parseArgs, parsePort, untilSignal } from './args.js';
import type { Env } from './index.js';
import { runServe } from './serve.js';

/**
 * `npm start`: with WeChat credentials in the environment this is `serve`; without any, it is
 * the demo (service and simulator together on SQLite, fresh test credentials).
 */
export async function runStart(argv: string[], env: Env): Promise<number> {
  if (hasWechatCredentials(env)) return runServe(argv, env);
  const args = parseArgs(argv, { values: ['port', 'simulator-port', 'host', 'time-scale', 'api'] });
  if (!args.ok) {
    process.stderr.write(`weapp-pay start: ${args.problem}\n`);
    return 1;
  }
  const port = parsePort(args.values.port ?? env.PORT, 3000);
  const simulatorPort = parsePort(args.values['simulator-port'], 3100);
  const timeScale = Number(args.values['time-scale'] ?? 60);
  const apiVersion = args.values.api ?? 'v3';
  if (apiVersion !== 'v2' && apiVersion !== 'v3') {
    process.stderr.write(`weapp-pay start: --api must be v2 or v3 (it is ${apiVersion})\n`);
    return 1;
  }
  if (port === undefined || simulatorPort === undefined || !(timeScale > 0)) {
    process.stderr.write('weapp-pay start: ports must be 0 to 65535 and --time-scale a positive number\n');
    return 1;
  }
  const demo = await startDemo({
    port,
    simulatorPort,
    host: args.values.host ?? env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL ?? 'sqlite:./data/weapp-pay.db',
    timeScale,
    apiVersion,
  });
  process.stdout.write(
    [
      'weapp-pay demo is running (no WeChat credentials configured, so everything is simulated):',
      '',
      `  Browser demo     ${demo.serviceUrl}/`,
      `  Service API      ${demo.serviceUrl}/api   (database: ${demo.database.dialect})`,
      `  WeChat simulator ${demo.simulatorUrl}   (appid ${demo.appid}; retries ${timeScale}x faster)`,
      `  WeChat Pay API   ${apiVersion}${apiVersion === 'v3' ? '   (RSA, public-key mode; npm start -- --api v2 for the XML API)' : ''}`,
      `  Admin token      ${demo.adminToken}   (for /docs, /metrics and /admin; demo only)`,
      '',
      'Walk through it with curl: see "Try it with curl" in README.md. Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  await demo.close();
  return 0;
}
