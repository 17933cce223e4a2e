import { isLogLevel, type LogEntry, type LogLevel } from '../observability/log-ring.js';
import { untilSignal } from './args.js';
import { painter } from './colour.js';
import type { CommandSpec } from './command.js';
import { type ServiceClient, ServiceError } from './service-client.js';
import {
  connect,
  JSON_OPTION,
  pause,
  reportingServiceErrors,
  SERVICE_ENV,
  stdoutColour,
} from './service-command.js';

/** An entry as GET /admin/logs answers it (the time as ISO text). */
type LogLine = Omit<LogEntry, 'time'> & { time: string };
type LogsPage = { entries: LogLine[]; next: number; capacity: number };

const PAGE = 1000;
const LEVEL_COLOUR = { debug: 'dim', info: 'green', warn: 'yellow', error: 'red' } as const;

/**
 * `weapp-pay logs`: the running service's recent requests and notifications from GET /admin/logs,
 * and with --follow the new ones as they come (polled; Ctrl-C stops).
 */
export const logsCommand: CommandSpec = {
  name: 'logs',
  summary: "show the running service's recent requests and notifications; --follow for new ones",
  options: [
    { flags: '-f, --follow', about: 'keep printing new entries until Ctrl-C, e.g. --follow' },
    { flags: '--order <id>', about: "only this order's requests and notifications, e.g. --order 4b1c…" },
    {
      flags: '--level <level>',
      about: 'the lowest level shown: debug, info (default), warn or error, e.g. --level warn',
    },
    { flags: '--lines <n>', about: 'how many recent entries to print first (default 50), e.g. --lines 200' },
    { flags: '--interval <seconds>', about: 'how often --follow asks (default 1), e.g. --interval 0.5' },
    { ...JSON_OPTION, about: 'one JSON object per line (the entry as the admin API has it), e.g. --json' },
  ],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay logs',
    'weapp-pay logs --follow',
    'weapp-pay logs --order 4b1c5a9e-0d6f-4c3e-9a53-1f2d3c4b5a69',
    'weapp-pay logs --level warn --lines 500',
    'WEAPP_PAY_URL=https://pay.example.com weapp-pay logs -f --json | jq .path',
  ],
  readsSettings: true,
  async run(_args, options, context) {
    const { io, env } = context;
    const level = (options.level as string | undefined) ?? 'info';
    const lines = Number(options.lines ?? 50);
    const interval = Number(options.interval ?? 1);
    if (!isLogLevel(level)) {
      io.err(`weapp-pay logs: --level must be debug, info, warn or error (it is ${level})\n`);
      return 1;
    }
    if (!Number.isInteger(lines) || lines < 0 || !(interval >= 0.1 && interval <= 60)) {
      io.err('weapp-pay logs: --lines must be a whole number ≥ 0 and --interval 0.1 to 60 seconds\n');
      return 1;
    }
    const paint = painter(stdoutColour(env));
    const print = (e: LogLine) =>
      io.out(options.json === true ? `${JSON.stringify(e)}\n` : formatEntry(e, paint));
    return reportingServiceErrors(io, 'logs', async () => {
      const client = connect(context);
      const query = { level, order: options.order as string | undefined };
      let { entries, next } = await readAll(client, { ...query, after: 0 });
      for (const e of entries.slice(Math.max(0, entries.length - lines))) print(e);
      if (options.follow !== true) return 0;
      const stopped = (context.untilStopped ?? untilSignal)();
      let stop = false;
      void stopped.then(() => {
        stop = true;
      });
      let unreachable = false;
      while (!stop) {
        await pause(interval * 1000, stopped);
        if (stop) break;
        try {
          ({ entries, next } = await readAll(client, { ...query, after: next }));
          if (unreachable) io.err('weapp-pay logs: the service answers again\n');
          unreachable = false;
          for (const e of entries) print(e);
        } catch (err) {
          if (!(err instanceof ServiceError) || err.status !== undefined) throw err;
          // A restart: say so once, and carry on (the cursor starts again from the oldest entry).
          if (!unreachable) io.err(`weapp-pay logs: ${err.message}; still trying\n`);
          unreachable = true;
        }
      }
      return 0;
    });
  },
};

/** Every entry after `after`, page after page (the service keeps 2000 at most). */
async function readAll(
  client: ServiceClient,
  query: { level: LogLevel; order: string | undefined; after: number },
): Promise<{ entries: LogLine[]; next: number }> {
  const entries: LogLine[] = [];
  let after = query.after;
  for (;;) {
    const params = new URLSearchParams({ after: String(after), level: query.level, limit: String(PAGE) });
    if (query.order !== undefined) params.set('order', query.order);
    const page = await client.admin<LogsPage>('GET', `/admin/logs?${params}`);
    entries.push(...page.entries);
    const moved = page.next !== after;
    after = page.next;
    if (page.entries.length < PAGE || !moved) return { entries, next: after };
  }
}

/** `06:44:29.123 INFO  POST /api/orders 201 12.3 ms  order 4b1c…`, with colours when asked. */
export function formatEntry(e: LogLine, paint: ReturnType<typeof painter>): string {
  const time = e.time.slice(11, 23);
  const level = paint(LEVEL_COLOUR[e.level], e.level.toUpperCase().padEnd(5));
  const status = paint(e.status >= 500 ? 'red' : e.status >= 400 ? 'yellow' : 'green', String(e.status));
  const what = e.kind === 'notification' ? `${paint('bold', 'notification')} ` : '';
  const order = e.orderId !== null && !e.path.includes(e.orderId) ? `  order ${e.orderId}` : '';
  const outcome = e.outcome === null ? '' : `  ${e.outcome}`;
  return `${paint('dim', time)} ${level} ${what}${e.method} ${e.path} ${status} ${e.durationMs} ms${outcome}${order}\n`;
}
