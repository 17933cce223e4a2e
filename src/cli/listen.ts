import { WEBHOOK_EVENT_TYPES } from '../webhooks/event-types.js';
import { untilSignal } from './args.js';
import { painter } from './colour.js';
import type { CommandSpec } from './command.js';
import { parseEventNames } from './listen/event-names.js';
import { formatEvent, formatForward } from './listen/format.js';
import { forwardEvent, forwardUrlProblem, newSessionSecret } from './listen/forward.js';
import { subscribe } from './listen/subscription.js';
import { ServiceError, serviceTarget } from './service-client.js';
import { JSON_OPTION, reportingServiceErrors, SERVICE_ENV, stdoutColour } from './service-command.js';

/**
 * `weapp-pay listen`: the running service's webhook events as they happen, from
 * GET /admin/events/stream; with --forward-to, each one re-sent to a local URL signed with a
 * session secret, as the service itself would deliver it.
 */
export const listenCommand: CommandSpec = {
  name: 'listen',
  summary: "print the running service's webhook events as they happen; --forward-to sends them to your code",
  options: [
    {
      flags: '--forward-to <url>',
      about:
        'POST each event to this URL, signed with a session secret printed at start, e.g. --forward-to http://localhost:4242/webhooks',
    },
    {
      flags: '--events <types>',
      about: 'only these event types, comma-separated, e.g. --events payment.succeeded,refund.succeeded',
    },
    { ...JSON_OPTION, about: 'print each event body as one JSON line, e.g. --json | jq .data.object.id' },
  ],
  env: SERVICE_ENV,
  examples: [
    'weapp-pay listen',
    'weapp-pay listen --forward-to http://localhost:4242/webhooks',
    'weapp-pay listen --events payment.succeeded,payment.closed',
    'weapp-pay listen --json | jq -c "{type, id: .data.object.id}"',
  ],
  details: `\nEvent types: ${WEBHOOK_EVENT_TYPES.join(', ')}.\nStatus lines (ready, the secret, reconnects) go to stderr; events to stdout. Ctrl-C stops.\n`,
  readsSettings: true,
  async run(_args, options, context) {
    const { io, env } = context;
    const forwardTo = options.forwardTo as string | undefined;
    let types: string[] | undefined;
    if (options.events !== undefined) {
      const parsed = parseEventNames(options.events as string);
      if ('error' in parsed) {
        io.err(`weapp-pay listen: ${parsed.error}\n`);
        return 1;
      }
      types = parsed.names;
    }
    const problem = forwardTo === undefined ? undefined : forwardUrlProblem(forwardTo);
    if (problem !== undefined) {
      io.err(`weapp-pay listen: ${problem}\n`);
      return 1;
    }
    const json = options.json === true;
    const paint = painter(!json && stdoutColour(env));
    return reportingServiceErrors(io, 'listen', async () => {
      const target = serviceTarget(env, context.cwd);
      if (target.token === undefined) {
        throw new ServiceError(
          `ADMIN_TOKEN is not set: set it (in the environment or ./.env) to the ADMIN_TOKEN of the service at ${target.url}`,
        );
      }
      if (target.tokenFrom !== 'ADMIN_TOKEN') {
        io.err(`ADMIN_TOKEN is not set: using the demo's admin token from ${target.tokenFrom}\n`);
      }
      const secret = forwardTo === undefined ? undefined : newSessionSecret();
      const stopped = (context.untilStopped ?? untilSignal)();
      const filter = types ? ` (${types.join(', ')} only)` : '';
      await subscribe({ ...target, token: target.token }, types, stopped, {
        connected(again) {
          if (again) {
            io.err('weapp-pay listen: reconnected; carrying on from the last event received\n');
            return;
          }
          io.err(`Ready! Listening for events from ${target.url}${filter} (Ctrl-C to stop)\n`);
          if (secret !== undefined) {
            io.err(
              `Forwarding to ${forwardTo}\nYour webhook signing secret is ${secret} (valid for this session)\n`,
            );
          }
        },
        lost(reason) {
          io.err(`weapp-pay listen: lost the service at ${target.url} (${reason}); reconnecting…\n`);
        },
        async message({ data }) {
          const body = JSON.parse(data);
          const line = json ? data : formatEvent(body, paint);
          if (forwardTo === undefined || secret === undefined) {
            io.out(`${line}\n`);
            return;
          }
          const result = await forwardEvent(forwardTo, secret, data);
          if (json) {
            io.out(`${line}\n`);
            io.err(`${body.id}${formatForward(result, painter(false))}\n`);
          } else {
            io.out(`${line}${formatForward(result, paint)}\n`);
          }
        },
      });
      return 0;
    });
  },
};
