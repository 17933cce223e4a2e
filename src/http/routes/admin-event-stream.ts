import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { EventLog } from '../../webhooks/event-log.js';
import { type EventStream, openEventStream } from '../../webhooks/event-stream.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.js';
import { AdminErrors } from '../admin-query.js';

export interface AdminEventStreamDeps {
  events: EventLog;
  /** In-process hints that the log may have grown (an outbox commit, a fan-out). */
  onLogGrowth(listener: () => void): () => void;
  /** Overrides for tests: the poll safety net (1 s) and the heartbeat (15 s). */
  streamTimings?: { pollMs: number; heartbeatMs: number };
}

const SEQUENCE = /^[0-9]{1,15}$/;
const KNOWN_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/**
 * GET /admin/events/stream: the event log as Server-Sent Events, for `weapp-pay listen`. Reads the
 * database (so events written by any instance arrive), woken early by this process's commits.
 */
export async function adminEventStreamRoutes(
  app: FastifyInstance,
  deps: AdminEventStreamDeps,
): Promise<void> {
  const timings = deps.streamTimings ?? { pollMs: 1000, heartbeatMs: 15_000 };
  const open = new Set<{ stream: EventStream; end(): void }>();
  // A stream never ends by itself: close them all, or the server's close would wait for them.
  app.addHook('preClose', async () => {
    for (const client of open) client.end();
  });

  app.get<{ Querystring: { after?: string; types?: string }; Headers: { 'last-event-id'?: string } }>(
    '/admin/events/stream',
    {
      config: { auth: 'admin' },
      schema: {
        summary:
          'The event log as Server-Sent Events: each event as `id:` (its sequence), `event:` (its type) and `data:` (the webhook body), as it enters the log; a `: heartbeat` comment every 15 s',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          after: Type.Optional(
            Type.String({
              pattern: SEQUENCE.source,
              description: 'start after this sequence (0 for the whole log); from now when absent',
            }),
          ),
          types: Type.Optional(
            Type.String({
              maxLength: 500,
              description: `comma-separated: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
            }),
          ),
        }),
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ description: 'on reconnect: the last `id:` received; wins over `after`' }),
          ),
        }),
        response: {
          200: {
            description: 'text/event-stream, open until the client leaves',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...AdminErrors,
        },
      },
    },
    async (request, reply) => {
      const types = parseTypes(request.query.types);
      const resumeFrom = request.headers['last-event-id']?.trim();
      if (resumeFrom !== undefined && resumeFrom !== '' && !SEQUENCE.test(resumeFrom)) {
        throw new AppError(
          'VALIDATION_ERROR',
          `Last-Event-ID must be an event sequence (it is ${resumeFrom}).`,
        );
      }
      const given = resumeFrom || request.query.after;
      const after = given === undefined ? await deps.events.lastSequence() : Number(given);

      reply.hijack();
      const res = reply.raw;
      const socket = request.raw.socket;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // retry: how long an EventSource waits before reconnecting. The bare id: is the starting
      // cursor, so a client that reconnects before any event arrives misses none in between.
      res.write(`retry: 2000\nid: ${after}\n\n`);
      const stream = openEventStream({
        list: deps.events.list,
        onWake: deps.onLogGrowth,
        after,
        types,
        write: (frame) => res.writableEnded || res.write(frame),
        drained: () =>
          new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          }),
        ...timings,
        onError: (err) => request.log.warn({ err }, 'event stream could not read the log'),
      });
      const client = {
        stream,
        end() {
          stream.close();
          // The socket goes too: left open and idle, it would hold the server's close up until
          // the keep-alive timeout.
          if (!res.writableEnded) res.end(() => socket.destroy());
        },
      };
      open.add(client);
      res.once('close', () => {
        open.delete(client);
        stream.close();
        // The client left mid-stream: its socket cannot carry another request.
        socket.destroy();
      });
    },
  );
}

/** `a,b` into a set of known types; unknown names are refused (a typo would silently match nothing). */
function parseTypes(text: string | undefined): ReadonlySet<string> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const names = text.split(',').map((t) => t.trim());
  const unknown = names.filter((n) => !KNOWN_TYPES.has(n));
  if (unknown.length > 0) {
    throw new AppError(
      'VALIDATION_ERROR',
      `Unknown event type ${unknown.join(', ')}: the types are ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
    );
  }
  return new Set(names);
}
