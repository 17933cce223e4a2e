import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { LOG_LEVELS, type LogLevel, type LogRing } from '../../observability/log-ring.js';
import { AdminErrors } from '../admin-query.js';

export const MAX_LOG_LIMIT = 1000;
const DEFAULT_LOG_LIMIT = 200;

const LogLevelSchema = Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)));

export const LogEntrySchema = Type.Object({
  seq: Type.Integer(),
  time: Type.String({ format: 'date-time' }),
  level: LogLevelSchema,
  kind: Type.Union([Type.Literal('request'), Type.Literal('notification')]),
  method: Type.String(),
  path: Type.String({ description: 'without the query string' }),
  status: Type.Integer(),
  outcome: Type.Union([Type.String(), Type.Null()], {
    description: "a refusal's error code, or what a notification did (paid, duplicate, bad_signature…)",
  }),
  durationMs: Type.Number(),
  orderId: Type.Union([Type.String(), Type.Null()]),
});

interface LogsQuery {
  after?: string;
  order?: string;
  level?: LogLevel;
  limit?: string;
}

/**
 * `GET /admin/logs`: the service's recent requests and notifications from its in-memory ring
 * (src/observability/log-ring.ts), for `weapp-pay logs`. Poll with `after=<next>` to follow.
 */
export async function adminLogRoutes(app: FastifyInstance, deps: { ring: LogRing }): Promise<void> {
  app.get<{ Querystring: LogsQuery }>(
    '/admin/logs',
    {
      config: { auth: 'admin' },
      schema: {
        summary: `Recent requests and notifications, oldest first (the last ${deps.ring.capacity} kept in memory; no bodies, headers or query strings)`,
        security: [{ bearer: [] }],
        querystring: Type.Object({
          after: Type.Optional(
            Type.String({ pattern: '^[0-9]{1,15}$', description: 'the `next` of the previous answer' }),
          ),
          order: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'an order id' })),
          level: Type.Optional({ ...LogLevelSchema, description: 'the lowest level shown (default debug)' }),
          limit: Type.Optional(
            Type.String({
              pattern: '^[0-9]{1,4}$',
              description: `entries per answer, 1 to ${MAX_LOG_LIMIT} (default ${DEFAULT_LOG_LIMIT})`,
            }),
          ),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(LogEntrySchema),
            next: Type.Integer({ description: 'pass as `after` to get only newer entries' }),
            capacity: Type.Integer({ description: 'how many entries the service keeps' }),
          }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const { after, order, level, limit } = request.query;
      const count = limit === undefined ? DEFAULT_LOG_LIMIT : Number(limit);
      if (count < 1 || count > MAX_LOG_LIMIT) {
        throw new AppError('VALIDATION_ERROR', `limit must be 1 to ${MAX_LOG_LIMIT}.`);
      }
      const read = deps.ring.read({
        after: after === undefined ? 0 : Number(after),
        ...(order !== undefined && { orderId: order }),
        ...(level !== undefined && { level }),
        limit: count,
      });
      return {
        entries: read.entries.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
        next: read.next,
        capacity: deps.ring.capacity,
      };
    },
  );
}
