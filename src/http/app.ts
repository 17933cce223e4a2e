import type { IncomingHttpHeaders } from 'node:http';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { ConsoleData } from '../admin/console-data.js';
import type { ApiKeys } from '../api-keys/api-keys.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { Clock } from '../clock.js';
import type { TrustProxy } from '../config.js';
import type { Idempotent } from '../idempotency/idempotency.js';
import { createLogRing, type LogRing } from '../observability/log-ring.js';
import type { NotifyOutcome } from '../orders/notify-service.js';
import type { V3NotifyHandled } from '../orders/notify-v3-service.js';
import type { OrderService } from '../orders/order-service.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { ReconcileDay } from '../reconcile/reconcile-day.js';
import { type AuthDeps, registerAuth } from './auth.js';
import { createConsoleSessions } from './console-session.js';
import { frameworkErrorReply, registerErrorHandler } from './error-handler.js';
import { registerRequestLog } from './request-log.js';
import { adminOrderRoutes } from './routes/admin.js';
import { adminApiKeyRoutes } from './routes/admin-api-keys.js';
import { type AdminEventStreamDeps, adminEventStreamRoutes } from './routes/admin-event-stream.js';
import { type AdminEventDeps, adminEventRoutes } from './routes/admin-events.js';
import { adminLogRoutes } from './routes/admin-logs.js';
import { adminQueueRoutes } from './routes/admin-queue.js';
import { adminReconciliationRoutes } from './routes/admin-reconciliations.js';
import { adminToolRoutes, type WechatTarget } from './routes/admin-tools.js';
import { type AdminWebhookDeps, adminWebhookRoutes } from './routes/admin-webhooks.js';
import { consoleRoutes } from './routes/console.js';
import { type DemoRouteDeps, demoRoutes } from './routes/demo.js';
import { docsRoutes } from './routes/docs.js';
import { loginRoutes } from './routes/login.js';
import { notifyRoutes } from './routes/notify.js';
import { notifyV3Routes } from './routes/notify-v3.js';
import { type OpsDeps, opsRoutes } from './routes/ops.js';
import { orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';
import { type RefundRouteDeps, refundRoutes } from './routes/refunds.js';
import { type V1RouteDeps, v1Routes } from './routes/v1.js';
import { v1EventRoutes } from './routes/v1-events.js';

export interface AppDeps extends Omit<OpsDeps, 'metrics'>, Omit<AuthDeps, 'apiKeys'> {
  log: Logger;
  clock: Clock;
  catalogue: Catalogue;
  login(code: string): Promise<{ token: string; expiresIn: number }>;
  orders: OrderService;
  /** The one idempotency engine (src/idempotency/idempotency.ts). */
  idempotent: Idempotent;
  /** Handles POST /payment/wxnotify (v2); absent when there is no v2 key to verify with. */
  notify?: (raw: Buffer) => Promise<NotifyOutcome>;
  /** API v3 only: handles POST /payment/wxnotify/v3 (resolves when durable; throws to refuse). */
  notifyV3?: (raw: Buffer, headers: IncomingHttpHeaders) => Promise<V3NotifyHandled>;
  /** The v2 refund notification; absent, POST /payment/refundnotify is not served. */
  notifyRefund?(raw: Buffer): Promise<NotifyOutcome>;
  /** Refunds (POST /admin/orders/:id/refunds and the refunds shown with an order). */
  refunds: RefundRouteDeps['refunds'];
  metrics: OpsDeps['metrics'];
  /** The /v1 API keys: the auth hook checks them, the admin API manages them. */
  apiKeys: ApiKeys;
  /** Payments the shop's backend makes through /v1. */
  payments: PaymentService;
  /** POST /v1/code2session: code2Session with the user upserted, never the session_key. */
  code2Session: V1RouteDeps['code2Session'];
  /** Webhook endpoints, the event log and resends (/admin/webhooks, /admin/events). */
  webhooks: Omit<AdminWebhookDeps & AdminEventDeps, 'clock'> & AdminEventStreamDeps;
  /** The operator console's reads and its resolve action. */
  console: ConsoleData;
  /** Reconciles one day against WeChat's bill (POST /admin/reconciliations). */
  reconcileDay: ReconcileDay;
  loginRatePerMinute: number;
  trustProxy: TrustProxy;
  /** Demo mode only: serves web/ at / and the page's configuration. */
  demo?: DemoRouteDeps;
  /** The WeChat hosts and ids, shown to the admin at GET /admin/wechat (no secrets). */
  wechat: WechatTarget;
  /** The recent request log behind GET /admin/logs; a fresh one by default. */
  requestLog?: LogRing;
  /** How long a request may take to arrive, headers and body; default {@link REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/** docs/service.md promises that a body still arriving after this is cut off (408 or a close). */
export const REQUEST_TIMEOUT_MS = 10_000;

/** A hop count becomes "the nearest n hops"; an address list is copied out of the frozen config. */
function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}

/**
 * Fastify's own log lines, less the two it writes for every request ("incoming request" and
 * "request completed"): the request log writes one line per request instead (request-log.ts).
 * A request that failed while its answer was being sent keeps Fastify's "request errored" line.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}

/** Builds the service's HTTP app without listening, so tests use inject() and production calls listen(). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One line per request, written by the request log (request-log.ts), instead of Fastify's two.
    logController: new OneLinePerRequest(),
    trustProxy: fastifyTrustProxy(deps.trustProxy),
    bodyLimit: 16 * 1024,
    // A body that trickles in is cut off. Node checks these limits only every
    // connectionsCheckingInterval (30 s by default), and headersTimeout defaults to 60 s: left
    // alone, a trickled body lived 73-84 s. Checking every second keeps the promise to ~1 s.
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(1000, requestTimeout),
    },
    frameworkErrors: frameworkErrorReply,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true } },
  });
  // The API speaks JSON only: a text/plain body would otherwise reach the schema as a string and
  // come back as a puzzling 400 instead of a 415 that names application/json.
  app.removeContentTypeParser('text/plain');
  registerErrorHandler(app);
  const requestLog = deps.requestLog ?? createLogRing();
  registerRequestLog(app, requestLog);
  const consoleSessions =
    deps.adminToken === undefined ? undefined : createConsoleSessions(deps.adminToken, deps.clock);
  registerAuth(app, { ...deps, consoleSessions });
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
  await app.register(orderRoutes, {
    orders: deps.orders,
    idempotent: deps.idempotent,
    refundsOf: (orderId) => deps.refunds.listForOrder(orderId),
  });
  await app.register(refundRoutes, {
    refunds: deps.refunds,
    idempotent: deps.idempotent,
  });
  if (deps.notify)
    await app.register(notifyRoutes, {
      handle: deps.notify,
      ...(deps.notifyRefund && { handleRefund: deps.notifyRefund }),
    });
  if (deps.notifyV3) await app.register(notifyV3Routes, { handle: deps.notifyV3 });
  await app.register(opsRoutes, deps);
  await app.register(adminOrderRoutes, { data: deps.console });
  await app.register(adminQueueRoutes, { data: deps.console, clock: deps.clock });
  await app.register(adminReconciliationRoutes, { data: deps.console, reconcileDay: deps.reconcileDay });
  await app.register(adminApiKeyRoutes, { apiKeys: deps.apiKeys });
  await app.register(v1Routes, {
    payments: deps.payments,
    refunds: deps.refunds,
    idempotent: deps.idempotent,
    code2Session: deps.code2Session,
  });
  await app.register(v1EventRoutes, { events: deps.webhooks.events });
  await app.register(adminLogRoutes, { ring: requestLog });
  await app.register(adminToolRoutes, {
    wechat: deps.wechat,
    orders: deps.orders,
    refundsOf: (orderId) => deps.refunds.listForOrder(orderId),
  });
  await app.register(adminWebhookRoutes, { ...deps.webhooks, clock: deps.clock });
  await app.register(adminEventRoutes, { ...deps.webhooks, clock: deps.clock });
  await app.register(adminEventStreamRoutes, deps.webhooks);
  await app.register(consoleRoutes, { sessions: consoleSessions, clock: deps.clock });
  await app.register(docsRoutes);
  if (deps.demo) await app.register(demoRoutes, deps.demo);
  return app;
}
