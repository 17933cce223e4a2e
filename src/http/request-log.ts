import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LogEntry, LogLevel, LogRing } from '../observability/log-ring.js';

/** What a handler adds to its request's log entry: an order id, a notification's outcome. */
export interface LogNote {
  orderId?: string;
  outcome?: string;
  /** A notification answered 200 but refused (v2 replies FAIL in XML): logged as a warning. */
  refused?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    logNote: LogNote | null;
  }
}

/** Adds to the request's log entry; later notes win field by field. */
export function noteForLog(request: FastifyRequest, note: LogNote): void {
  request.logNote = request.logNote === null ? note : { ...request.logNote, ...note };
}

/** The reader's own polling would fill the ring with itself. */
const UNLOGGED_PATH = '/admin/logs';
const ORDER_ROUTE = /\/orders\/:id(\/|$)/;
/** A path is kept whole up to this length: the ring stays bounded in bytes, not only in entries. */
const MAX_PATH = 200;

function levelOf(method: string, path: string, status: number, note: LogNote | null): LogLevel {
  if (status >= 500) return 'error';
  if (status >= 400 || note?.refused) return 'warn';
  // Reads other than the mini program's (health checks, metrics scrapes, documentation, static
  // files, the console's and the command line's admin reads): there, but out of the way.
  if ((method === 'GET' || method === 'HEAD') && !path.startsWith('/api/')) return 'debug';
  return 'info';
}

/** The log entry of one answered request: what the onResponse hook runs (exported to measure it). */
export function recordResponse(
  ring: LogRing,
  request: Pick<FastifyRequest, 'url' | 'method' | 'params' | 'logNote'> & {
    routeOptions: { url?: string | undefined };
  },
  reply: { statusCode: number; elapsedTime: number },
): LogEntry | undefined {
  const url = request.url;
  const q = url.indexOf('?');
  const whole = q < 0 ? url : url.slice(0, q);
  if (whole === UNLOGGED_PATH) return undefined;
  const path = whole.length > MAX_PATH ? `${whole.slice(0, MAX_PATH)}…` : whole;
  const note = request.logNote;
  const status = reply.statusCode;
  const route = request.routeOptions.url;
  const paramId =
    route !== undefined && ORDER_ROUTE.test(route) ? (request.params as { id?: string }).id : undefined;
  const entry: LogEntry = {
    seq: 0,
    time: Date.now(),
    level: levelOf(request.method, path, status, note),
    kind: path.startsWith('/payment/') ? 'notification' : 'request',
    method: request.method,
    path,
    status,
    outcome: note?.outcome ?? null,
    durationMs: Math.round(reply.elapsedTime * 10) / 10,
    orderId: note?.orderId ?? paramId ?? null,
  };
  ring.add(entry);
  return entry;
}

/**
 * The service's one log line per answered request, at the entry's level: `info` for the mini
 * program's and WeChat's requests, `warn` for a refusal, `error` for a failure, `debug` for reads
 * such as health checks and metrics scrapes. It replaces Fastify's two lines per request
 * ("incoming request", "request completed") with one that carries what both did and the outcome
 * (docs/performance.md, seventh and eighth passes).
 */
function accessLine(entry: LogEntry): Record<string, unknown> {
  const { method, path, status, durationMs, outcome, orderId } = entry;
  return {
    method,
    path,
    status,
    ms: durationMs,
    ...(outcome !== null && { outcome }),
    ...(orderId !== null && { orderId }),
  };
}

/**
 * One entry per answered request in the ring and one log line (accessLine), written when the
 * answer has gone out (onResponse), so they cost the client nothing. Paths lose their query
 * strings. Fastify's own two lines per request are off (app.ts, OneLinePerRequest).
 */
export function registerRequestLog(app: FastifyInstance, ring: LogRing): void {
  app.decorateRequest('logNote', null);
  app.addHook('onResponse', (request, reply, done) => {
    const entry = recordResponse(ring, request, reply);
    if (entry) request.log[entry.level](accessLine(entry), 'request');
    done();
  });
}
