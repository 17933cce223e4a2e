import type { FastifyInstance } from 'fastify';
import type { AuditReport } from '../../audit/audit.js';
import type { Metrics } from '../../observability/metrics.js';
import { AuditReportSchema } from '../audit-schema.js';

export interface OpsDeps {
  metrics: Metrics;
  countOrders(): Promise<Readonly<Record<string, number>>>;
  pingDatabase(): Promise<void>;
  /** The money-rule audit (src/audit/), as `weapp-pay audit --json` prints it. */
  audit(): Promise<AuditReport>;
}

/** Health and metrics; the admin views are in admin.ts and admin-queue.ts. */
export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  app.get(
    '/healthz',
    { config: { auth: 'public' }, schema: { summary: 'Liveness and database reachability' } },
    async (_req, reply) => {
      try {
        await deps.pingDatabase();
        return { status: 'ok', database: 'ok', time: new Date().toISOString() };
      } catch {
        return reply
          .code(503)
          .send({ status: 'degraded', database: 'unreachable', time: new Date().toISOString() });
      }
    },
  );

  app.get(
    '/metrics',
    { config: { auth: 'admin' }, schema: { summary: 'Prometheus metrics' } },
    async (_req, reply) => {
      const counts = await deps.countOrders();
      return reply.type('text/plain; version=0.0.4').send(deps.metrics.render(counts));
    },
  );

  app.get(
    '/admin/audit',
    {
      config: { auth: 'admin' },
      schema: { summary: 'The money-rule audit (weapp-pay audit)', response: { 200: AuditReportSchema } },
    },
    () => deps.audit(),
  );
}
