import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AnomalyState } from '../../admin/anomaly-queue.js';
import type { ConsoleData } from '../../admin/console-data.js';
import { beijingDate, dayRange } from '../../admin/time-range.js';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import { AdminErrors, MaybeText, PagingQuery, paging, Time } from '../admin-query.js';

const Paged = { page: Type.Integer(), limit: Type.Integer(), total: Type.Integer() };
const Counted = Type.Object({ count: Type.Integer(), amount: Type.Integer({ description: 'fen' }) });

const AnomalySchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  ref: Type.String(),
  orderId: MaybeText,
  data: Type.Unknown(),
  createdAt: Type.Integer({ description: 'epoch ms, as before the console' }),
  resolvedAt: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch ms' }),
  resolvedBy: MaybeText,
  resolutionNote: MaybeText,
});

type AnomalyQuery = { state?: AnomalyState; kind?: string; order_id?: string; page?: string; limit?: string };

/** The anomaly queue, its resolve action and today at a glance. */
export async function adminQueueRoutes(
  app: FastifyInstance,
  deps: { data: ConsoleData; clock: Clock },
): Promise<void> {
  const { data, clock } = deps;

  app.get<{ Querystring: AnomalyQuery }>(
    '/admin/anomalies',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'The anomaly queue, oldest first: open ones by default (state=resolved or all for the rest)',
        security: [{ bearer: [] }],
        querystring: Type.Object({
          state: Type.Optional(
            Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('all')]),
          ),
          kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          ...PagingQuery,
        }),
        response: { 200: Type.Object({ anomalies: Type.Array(AnomalySchema), ...Paged }), ...AdminErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const { page, limit, offset } = paging(q);
      const filter = {
        state: q.state ?? 'open',
        ...(q.kind !== undefined && { kind: q.kind }),
        ...(q.order_id !== undefined && { orderId: q.order_id }),
      };
      const { anomalies, total } = await data.anomalies.list(filter, offset, limit);
      return { anomalies, page, limit, total };
    },
  );

  app.post<{ Params: { id: string }; Body: { note: string } }>(
    '/admin/anomalies/:id/resolve',
    {
      config: { auth: 'admin' },
      schema: {
        summary:
          'Resolve an anomaly with a note; it leaves the open queue. Once only: a second resolve is 409',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ pattern: '^[0-9]{1,15}$' }) }),
        body: Type.Object({ note: Type.String({ minLength: 1, maxLength: 1000 }) }),
        response: { 200: Type.Object({ anomaly: AnomalySchema }), ...AdminErrors },
      },
    },
    async (request) => {
      const note = request.body.note.trim();
      if (!note) throw new AppError('VALIDATION_ERROR', 'note must say what was done; it cannot be blank.');
      const who = request.admin ?? 'admin';
      const a = await data.anomalies.resolve(Number(request.params.id), who, note, clock.now());
      return { anomaly: a };
    },
  );

  app.get<{ Querystring: { date?: string } }>(
    '/admin/summary',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'One day at a glance (Beijing time), counted from the database; date defaults to today',
        security: [{ bearer: [] }],
        querystring: Type.Object({ date: Type.Optional(Type.String({ maxLength: 10 })) }),
        response: {
          200: Type.Object({
            date: Type.String(),
            from: Time,
            to: Time,
            created: Type.Integer(),
            paid: Counted,
            refunds: Counted,
            pending: Type.Integer(),
            notifications: Type.Object({
              accepted: Type.Integer(),
              applied: Type.Integer(),
              duplicates: Type.Integer(),
              refused: Type.Record(Type.String(), Type.Integer()),
            }),
            anomalies: Type.Record(Type.String(), Type.Integer()),
            statuses: Type.Record(Type.String(), Type.Integer()),
          }),
          ...AdminErrors,
        },
      },
    },
    async (request) => {
      const date = request.query.date ?? beijingDate(clock.now());
      const { start, end } = dayRange(date);
      return data.summary(date, start, end);
    },
  );
}
