import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../observability/metrics.js';

export interface OpsDeps {
  metrics: Metrics;
  countOrders(): Promise<Readonly<Record<string, number>>>;
  pingDatabase(): Promise<void>;
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
}
