import type { IncomingHttpHeaders } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { Clock } from '../clock.js';
import type { NotifyOutcome } from '../orders/notify-service.js';
import type { OrderService } from '../orders/order-service.js';
import { type AuthDeps, registerAuth } from './auth.js';
import { registerErrorHandler } from './error-handler.js';
import { type DemoRouteDeps, demoRoutes } from './routes/demo.js';
import { loginRoutes } from './routes/login.js';
import { notifyRoutes } from './routes/notify.js';
import { notifyV3Routes } from './routes/notify-v3.js';
import { type OpsDeps, opsRoutes } from './routes/ops.js';
import { type IdempotencyPort, orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';

export interface AppDeps extends Omit<OpsDeps, 'metrics'>, AuthDeps {
  log: Logger;
  clock: Clock;
  catalogue: Catalogue;
  login(code: string): Promise<{ token: string; expiresIn: number }>;
  orders: OrderService;
  idempotency: IdempotencyPort;
  /** Handles POST /payment/wxnotify (v2); absent when there is no v2 key to verify with. */
  notify?: (raw: Buffer) => Promise<NotifyOutcome>;
  /** API v3 only: handles POST /payment/wxnotify/v3 (resolves when durable; throws to refuse). */
  notifyV3?: (raw: Buffer, headers: IncomingHttpHeaders) => Promise<void>;
  metrics: OpsDeps['metrics'];
  loginRatePerMinute: number;
  trustProxy: boolean;
  /** Demo mode only: serves web/ at / and the page's configuration. */
  demo?: DemoRouteDeps;
}

/** Builds the service's HTTP app without listening, so tests use inject() and production calls listen(). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    trustProxy: deps.trustProxy,
    bodyLimit: 16 * 1024,
    // A body that trickles in is cut off (checklist A3).
    requestTimeout: 10_000,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true } },
  });
  registerErrorHandler(app);
  registerAuth(app, deps);
  await app.register(swagger, {
    openapi: {
      info: { title: 'weapp-pay', version: '0.1.0', description: 'The mini program contract of weapp-pay.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(loginRoutes, {
    login: deps.login,
    clock: deps.clock,
    ratePerMinute: deps.loginRatePerMinute,
  });
  await app.register(productRoutes, { catalogue: deps.catalogue });
  await app.register(orderRoutes, { orders: deps.orders, idempotency: deps.idempotency, clock: deps.clock });
  if (deps.notify) await app.register(notifyRoutes, { handle: deps.notify });
  if (deps.notifyV3) await app.register(notifyV3Routes, { handle: deps.notifyV3 });
  await app.register(opsRoutes, deps);
  if (deps.demo) await app.register(demoRoutes, deps.demo);
  return app;
}
