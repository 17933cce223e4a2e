import { painter } from './colour.js';
import type { CommandSpec } from './command.js';
import { ServiceError } from './service-client.js';
import { connect, JSON_OPTION, SERVICE_ENV, stdoutColour } from './service-command.js';
import { TRIGGER_EVENTS } from './trigger/events.js';
import { createReport, TriggerError } from './trigger/report.js';
import { findSimulators } from './trigger/simulator.js';

const EVENT_NAMES = Object.keys(TRIGGER_EVENTS);
const DEFAULT_TIMEOUT_S = 90;

/**
 * `weapp-pay trigger <event>`: makes a payment event happen for real against the running service
 * and its simulator (a login, an order, the cashier, the fault), so the shop's code sees the real
 * requests and notifications. Refuses a service that talks to the real WeChat.
 */
export const triggerCommand: CommandSpec = {
  name: 'trigger',
  summary: 'make a payment, refund or notification event happen for real, against the simulator',
  args: [{ syntax: '<event>', about: `one of ${EVENT_NAMES.join(', ')}` }],
  options: [
    {
      flags: '--sku <sku>',
      about:
        'the catalogue product to order (default the first of GET /api/products), e.g. --sku coffee-latte',
    },
    { flags: '--quantity <n>', about: 'how many (default 1), e.g. --quantity 2' },
    {
      flags: '--simulator-url <url>',
      about:
        "reach the simulator here instead of at the service's WECHAT_PAY_BASE_URL (a container's address), e.g. --simulator-url http://127.0.0.1:3100",
    },
    {
      flags: '--timeout <seconds>',
      about: `how long to wait for the service to learn the outcome (default ${DEFAULT_TIMEOUT_S}), e.g. --timeout 30`,
    },
    {
      ...JSON_OPTION,
      about: 'print { event, ok, orderId, outTradeNo, status, steps, notes, error? }, e.g. --json',
    },
  ],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay trigger payment.succeeded',
    'weapp-pay trigger refund.failed --sku coffee-latte',
    'weapp-pay trigger notification.duplicate --json | jq .orderId',
    'WEAPP_PAY_URL=http://127.0.0.1:8080 weapp-pay trigger payment.closed --simulator-url http://127.0.0.1:3100',
  ],
  details: `\nEvents:\n${eventList()}\nOnly against the simulator: the service's WECHAT_PAY_BASE_URL and WECHAT_API_BASE_URL\n(GET /admin/wechat) must answer as \`weapp-pay simulate\` does, and WeChat's own hosts are refused.\n`,
  readsSettings: true,
  async run([name], options, context) {
    const { io } = context;
    const event = TRIGGER_EVENTS[name as string];
    const quantity = Number(options.quantity ?? 1);
    const timeout = Number(options.timeout ?? DEFAULT_TIMEOUT_S);
    if (!event) {
      io.err(`weapp-pay trigger: unknown event ${JSON.stringify(name)}; events:\n${eventList()}`);
      return 1;
    }
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 999 || !(timeout > 0 && timeout <= 3600)) {
      io.err('weapp-pay trigger: --quantity must be 1 to 999 and --timeout 1 to 3600 seconds\n');
      return 1;
    }
    const json = options.json === true;
    const paint = painter(!json && stdoutColour(context.env));
    const report = createReport(json ? undefined : io.out, paint);
    const service = connect(context);
    if (!json) io.out(`weapp-pay trigger ${name}: ${event.about}\n`);
    let result: Awaited<ReturnType<typeof event.run>> | undefined;
    let error: string | undefined;
    try {
      await service.call('GET', '/healthz');
      const sims = await findSimulators(service, options.simulatorUrl as string | undefined);
      report.done(
        `the service at ${service.url} talks to the simulator`,
        `API ${sims.wechat.apiVersion}, simulator ${sims.pay.url}${sims.login.url === sims.pay.url ? '' : ` (logins ${sims.login.url})`}`,
      );
      result = await event.run({
        service,
        sims,
        report,
        timeoutMs: timeout * 1000,
        sku: options.sku as string | undefined,
        quantity,
      });
    } catch (err) {
      if (!(err instanceof TriggerError || err instanceof ServiceError)) throw err;
      error = err.message;
    }
    const order = result?.page.order;
    if (json) {
      io.out(
        `${JSON.stringify({
          event: name,
          ok: error === undefined,
          orderId: order?.id ?? report.order?.id ?? null,
          outTradeNo: order?.outTradeNo ?? report.order?.outTradeNo ?? null,
          status: order?.status ?? null,
          steps: report.steps,
          notes: report.notes,
          ...(error !== undefined && { error }),
        })}\n`,
      );
    } else if (error !== undefined) {
      io.err(`${paint('red', '✗')} ${error}\n`);
      if (report.order) io.err(`order ${report.order.id} (weapp-pay orders show ${report.order.id})\n`);
    } else if (order) {
      io.out(`\norder ${paint('bold', order.id)}  ${order.status}  (weapp-pay orders show ${order.id})\n`);
    }
    return error === undefined ? 0 : 1;
  },
};

function eventList(): string {
  const width = Math.max(...EVENT_NAMES.map((n) => n.length));
  return EVENT_NAMES.map((n) => `  ${n.padEnd(width)}  ${TRIGGER_EVENTS[n]?.about}\n`).join('');
}
