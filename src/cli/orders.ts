import type { AdminOrder, AdminRefund } from '../admin/order-queries.js';
import { type Colour, painter } from './colour.js';
import type { CommandGroup, CommandSpec } from './command.js';
import {
  connect,
  JSON_OPTION,
  reportingServiceErrors,
  SERVICE_ENV,
  stdoutColour,
} from './service-command.js';

/** An order as GET /admin/orders/:id answers it: times as ISO text. */
type AdminOrderJson = Omit<AdminOrder, 'createdAt' | 'paidAt' | 'updatedAt' | 'expiresAt'> & {
  createdAt: string;
  paidAt: string | null;
  expiresAt: string;
};
interface TimelineEntry {
  at: string;
  kind: 'event' | 'evidence' | 'anomaly';
  type: string;
  data: unknown;
}
export type OrderPage = { order: AdminOrderJson; timeline: TimelineEntry[]; refunds: AdminRefund[] };

const ORDER_ID = {
  syntax: '<id>',
  about: 'the order id (the `id` of POST /api/orders, or from the console)',
};
const STATUS_COLOUR: Readonly<Record<string, Colour>> = {
  PAID: 'green',
  PARTIALLY_REFUNDED: 'green',
  REFUNDED: 'cyan',
  PENDING: 'yellow',
  CLOSED: 'dim',
  REVIEW: 'red',
};

export const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
const when = (iso: string | null) => (iso === null ? '—' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const orderPath = (id: string) => `/admin/orders/${encodeURIComponent(id)}`;

const showCommand: CommandSpec = {
  name: 'show',
  summary: 'one order as the console shows it: its facts, refunds and timeline (GET /admin/orders/:id)',
  args: [ORDER_ID],
  options: [JSON_OPTION],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay orders show 4b1c5a9e-0d6f-4c3e-9a53-1f2d3c4b5a69',
    'weapp-pay orders show 4b1c5a9e-0d6f-4c3e-9a53-1f2d3c4b5a69 --json | jq .timeline',
  ],
  readsSettings: true,
  run: ([id], options, context) =>
    reportingServiceErrors(context.io, 'orders show', async () => {
      const page = await connect(context).admin<OrderPage>('GET', orderPath(id as string));
      context.io.out(
        options.json === true
          ? `${JSON.stringify(page, null, 2)}\n`
          : formatOrderPage(page, painter(stdoutColour(context.env))),
      );
      return 0;
    }),
};

const syncCommand: CommandSpec = {
  name: 'sync',
  summary: "ask WeChat for the order's state now, as the mini program's 我已支付 button does",
  args: [ORDER_ID],
  options: [JSON_OPTION],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay orders sync 4b1c5a9e-0d6f-4c3e-9a53-1f2d3c4b5a69',
    'weapp-pay orders sync 4b1c5a9e-0d6f-4c3e-9a53-1f2d3c4b5a69 --json',
  ],
  readsSettings: true,
  run: ([id], options, context) =>
    reportingServiceErrors(context.io, 'orders sync', async () => {
      const client = connect(context);
      const before = await client.admin<OrderPage>('GET', orderPath(id as string));
      const { order } = await client.admin<{ order: { id: string; status: string } }>(
        'POST',
        `${orderPath(id as string)}/sync`,
      );
      const was = before.order.status;
      if (options.json === true) {
        context.io.out(`${JSON.stringify({ id: order.id, before: was, after: order.status, order })}\n`);
      } else {
        const paint = painter(stdoutColour(context.env));
        const now = paint(STATUS_COLOUR[order.status] ?? 'bold', order.status);
        context.io.out(
          was === order.status
            ? `order ${order.id}: ${now} (unchanged${settled(was) ? ': WeChat is asked only about pending or closed orders' : ''})\n`
            : `order ${order.id}: ${was} → ${now}\n`,
        );
      }
      return 0;
    }),
};

const settled = (status: string) => status !== 'PENDING' && status !== 'CLOSED';

export const ordersCommands: CommandGroup = {
  name: 'orders',
  summary: 'look at one order (show) or ask WeChat about it now (sync)',
  subcommands: [showCommand, syncCommand],
  examples: ['weapp-pay orders show <id>', 'weapp-pay orders sync <id>'],
};

/** The order page: facts, refunds, then the timeline with each entry's data on one line. */
export function formatOrderPage(page: OrderPage, paint: ReturnType<typeof painter>): string {
  const { order, refunds, timeline } = page;
  const facts: [string, string][] = [
    ['status', paint(STATUS_COLOUR[order.status] ?? 'bold', order.status)],
    ['amount', `${yuan(order.amount)} (${order.quantity} × ${order.sku})`],
    ['description', order.description],
    ['out_trade_no', order.outTradeNo],
    ['transaction_id', order.transactionId ?? '—'],
    ['openid', order.openid],
    ['created', when(order.createdAt)],
    ['paid', order.paidAt === null ? '—' : `${when(order.paidAt)} (learnt by ${order.paidSource})`],
    ['expires', when(order.expiresAt)],
  ];
  const out = [`${paint('bold', `Order ${order.id}`)}`];
  for (const [k, v] of facts) out.push(`  ${k.padEnd(15)}${v}`);
  out.push('', paint('bold', `Refunds (${refunds.length})`));
  for (const r of refunds) {
    const error = r.lastError === null ? '' : `  last error ${r.lastError}`;
    out.push(
      `  ${r.outRefundNo}  ${yuan(r.amount)}  ${r.status}  ${when(r.createdAt)}  "${r.reason}"${error}`,
    );
  }
  out.push('', paint('bold', `Timeline (${timeline.length})`));
  for (const t of timeline) {
    const label = t.kind === 'event' ? t.type : `${t.kind}: ${t.type}`;
    const data = JSON.stringify(t.data);
    out.push(
      `  ${paint('dim', when(t.at))}  ${label}${data === undefined || data === '{}' ? '' : `  ${data}`}`,
    );
  }
  return `${out.join('\n')}\n`;
}
