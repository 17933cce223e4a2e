import type { LoggedEvent } from '../webhooks/event-log.js';
import { painter } from './colour.js';
import type { CommandGroup, CommandSpec } from './command.js';
import { formatEvent } from './listen/format.js';
import { ServiceError } from './service-client.js';
import {
  connect,
  JSON_OPTION,
  reportingServiceErrors,
  SERVICE_ENV,
  stdoutColour,
} from './service-command.js';

type EventsPage = {
  events: (LoggedEvent & { data: { object: Record<string, unknown> } })[];
  hasMore: boolean;
  next: number;
};
type Resent = { eventId: string; deliveries: { endpointId: string; deliveryId: number }[] };

const WHOLE = /^[0-9]{1,15}$/;

const listCommand: CommandSpec = {
  name: 'list',
  summary: 'the event log, oldest first, after a sequence (GET /admin/events)',
  options: [
    { flags: '--after <sequence>', about: 'only events after this sequence (default 0), e.g. --after 120' },
    { flags: '--limit <n>', about: 'at most this many, 1 to 500 (default 100), e.g. --limit 20' },
    { ...JSON_OPTION, about: 'print the page as GET /admin/events answers it, e.g. --json | jq .next' },
  ],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay events list',
    'weapp-pay events list --after 120 --limit 20',
    'weapp-pay events list --json',
  ],
  readsSettings: true,
  run: (_args, options, context) =>
    reportingServiceErrors(context.io, 'events list', async () => {
      const after = (options.after as string | undefined) ?? '0';
      const limit = (options.limit as string | undefined) ?? '100';
      if (!WHOLE.test(after) || !WHOLE.test(limit) || Number(limit) < 1 || Number(limit) > 500) {
        context.io.err(
          'weapp-pay events list: --after must be a sequence (0 or more) and --limit 1 to 500\n',
        );
        return 1;
      }
      const page = await connect(context).admin<EventsPage>(
        'GET',
        `/admin/events?${new URLSearchParams({ after, limit })}`,
      );
      if (options.json === true) {
        context.io.out(`${JSON.stringify(page, null, 2)}\n`);
        return 0;
      }
      const paint = painter(stdoutColour(context.env));
      for (const e of page.events)
        context.io.out(`${String(e.sequence).padStart(6)}  ${formatEvent(e, paint)}\n`);
      if (page.events.length === 0) context.io.err(`no events after ${after}\n`);
      else if (page.hasMore) context.io.err(`more: weapp-pay events list --after ${page.next}\n`);
      return 0;
    }),
};

const resendCommand: CommandSpec = {
  name: 'resend',
  summary: 'send an event again now, with the same id (POST /admin/events/:id/resend)',
  args: [{ syntax: '<id>', about: 'the event id, evt_… (weapp-pay events list, or the webhook body)' }],
  options: [
    {
      flags: '--endpoint <id>',
      about:
        'only to this webhook endpoint (default every enabled endpoint that wants the type), e.g. --endpoint we_…',
    },
    { ...JSON_OPTION, about: 'print { eventId, deliveries } as the service answers, e.g. --json' },
  ],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay events resend evt_5f0c2b9a7d1e4c3b2a190817',
    'weapp-pay events resend evt_5f0c… --endpoint we_3kd9…',
  ],
  readsSettings: true,
  run: ([id], options, context) =>
    reportingServiceErrors(context.io, 'events resend', async () => {
      const { io } = context;
      const endpointId = options.endpoint as string | undefined;
      const client = connect(context);
      let resent: Resent;
      try {
        resent = await client.admin<Resent>(
          'POST',
          `/admin/events/${encodeURIComponent(id as string)}/resend`,
          {
            ...(endpointId !== undefined && { body: { endpointId } }),
          },
        );
      } catch (err) {
        if (err instanceof ServiceError && err.code === 'EVENT_NOT_FOUND') {
          throw new ServiceError(
            `no event ${id} on the service at ${client.url} (weapp-pay events list shows them)`,
          );
        }
        if (err instanceof ServiceError && err.code === 'WEBHOOK_ENDPOINT_NOT_FOUND') {
          throw new ServiceError(
            `no webhook endpoint ${endpointId} on the service at ${client.url} (GET /admin/webhooks lists them)`,
          );
        }
        throw err;
      }
      if (options.json === true) {
        io.out(`${JSON.stringify(resent)}\n`);
        return 0;
      }
      if (resent.deliveries.length === 0) {
        io.out(`${resent.eventId}: no enabled webhook endpoint wants this event; nothing was scheduled\n`);
        return 0;
      }
      io.out(`${resent.eventId} scheduled again, now:\n`);
      for (const d of resent.deliveries) io.out(`  to ${d.endpointId}  (delivery ${d.deliveryId})\n`);
      return 0;
    }),
};

/** `weapp-pay events list|resend`: the webhook event log and its resends. */
export const eventsCommands: CommandGroup = {
  name: 'events',
  summary: 'the webhook event log: list it, resend an event',
  subcommands: [listCommand, resendCommand],
  examples: ['weapp-pay events list --limit 20', 'weapp-pay events resend evt_5f0c2b9a7d1e4c3b2a190817'],
};
