import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ConsoleData, StoredReconciliation } from '../../admin/console-data.js';
import { AppError } from '../../errors.js';
import type { ReconcileDay } from '../../reconcile/reconcile-day.js';
import { AdminErrors, iso, PagingQuery, paging, Time } from '../admin-query.js';

const Paged = { page: Type.Integer(), limit: Type.Integer(), total: Type.Integer() };
const DateParam = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  description: 'YYYY-MM-DD, Beijing time',
});

const Report = Type.Object({
  id: Type.Integer(),
  billDate: Type.String(),
  status: Type.String({ description: 'clean, settled or needs_attention' }),
  summary: Type.Unknown({
    description:
      'The whole report: bill and our totals, counts, and the findings, each with its kind, what the bill and we hold, what the run did, and its anomaly id',
  }),
  createdAt: Time,
  updatedAt: Type.Union([Time, Type.Null()], { description: 'when a rerun last replaced it' }),
});

/** Daily reconciliation reports: the list, one day's report, and a run on demand. */
export async function adminReconciliationRoutes(
  app: FastifyInstance,
  deps: { data: ConsoleData; reconcileDay: ReconcileDay },
): Promise<void> {
  const { data } = deps;
  const shown = (r: StoredReconciliation) => ({
    ...r,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  });

  app.get<{ Querystring: { page?: string; limit?: string } }>(
    '/admin/reconciliations',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Stored daily reconciliation reports (one per bill date), newest bill date first',
        security: [{ bearer: [] }],
        querystring: Type.Object(PagingQuery),
        response: { 200: Type.Object({ reports: Type.Array(Report), ...Paged }), ...AdminErrors },
      },
    },
    async (request) => {
      const { page, limit, offset } = paging(request.query);
      const { reports, total } = await data.reconciliations(offset, limit);
      return { reports: reports.map(shown), page, limit, total };
    },
  );

  app.get<{ Params: { date: string } }>(
    '/admin/reconciliations/:date',
    {
      config: { auth: 'admin' },
      schema: {
        summary: "One bill date's reconciliation report",
        security: [{ bearer: [] }],
        params: Type.Object({ date: DateParam }),
        response: { 200: Type.Object({ report: Report }), ...AdminErrors },
      },
    },
    async (request) => {
      const report = await data.reconciliation(request.params.date);
      if (!report)
        throw new AppError(
          'RECONCILIATION_NOT_FOUND',
          `No reconciliation report for ${request.params.date} yet.`,
        );
      return { report: shown(report) };
    },
  );

  app.post<{ Body: { date: string } }>(
    '/admin/reconciliations',
    {
      config: { auth: 'admin' },
      schema: {
        summary:
          "Reconcile one finished day now: download WeChat's bill, compare it with our orders and refunds, settle lost payments and refunds by query, save the report (replacing that date's) and an anomaly per finding",
        security: [{ bearer: [] }],
        body: Type.Object({ date: DateParam }),
        response: { 200: Type.Object({ report: Report }), ...AdminErrors },
      },
    },
    async (request) => {
      await deps.reconcileDay(request.body.date);
      const report = await data.reconciliation(request.body.date);
      if (!report) throw new Error(`the report of ${request.body.date} was saved but cannot be read back`);
      return { report: shown(report) };
    },
  );
}
