/**
 * The one composition root. It takes a validated, frozen Config (read from the environment by
 * the CLI), builds every dependency once and hands them down. Nothing below this file reads
 * process.env or imports a global database.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createConsoleData } from './admin/console-data.js';
import { createApiKeys } from './api-keys/api-keys.js';
import { AUDIT_CHECKS, runAudit } from './audit/index.js';
import { createCodeExchange, createLoginService } from './auth/login-service.js';
import type { Catalogue } from './catalogue/catalogue.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { migrateToLatest } from './db/migrations.js';
import { type DbHandle, openDatabase } from './db/open.js';
import { buildApp } from './http/app.js';
import type { DemoRouteDeps } from './http/routes/demo.js';
import { createIdempotency } from './idempotency/idempotency.js';
import { createIdempotencyStore } from './idempotency/idempotency-store.js';
import { createDailyReconciliation, type DailyReconciliation } from './jobs/daily-reconciliation.js';
import { createReconciler, type Reconciler } from './jobs/reconciler.js';
import { createRefundReconciler, type RefundReconciler } from './jobs/refund-reconciler.js';
import { createV2Payments } from './main-v2.js';
import { createV3Payments } from './main-v3.js';
import { cachedFor } from './observability/cached-for.js';
import { createMetrics } from './observability/metrics.js';
import { createAnomalyStore } from './orders/anomaly-store.js';
import { createNotificationLog } from './orders/notification-log.js';
import { createNotifiedRefundSettlement } from './orders/notified-refund.js';
import { createNotifiedSettlement } from './orders/notified-settlement.js';
import { createNotifyService } from './orders/notify-service.js';
import { createNotifyV3Service } from './orders/notify-v3-service.js';
import { createOrderService } from './orders/order-service.js';
import { createOrderStore } from './orders/order-store.js';
import { createOutTradeNoGenerator } from './orders/out-trade-no.js';
import { createQuerySettler } from './orders/query-settler.js';
import { createRefundNotifyService } from './orders/refund-notify-service.js';
import { createRefundService } from './orders/refund-service.js';
import { createRefundStore } from './orders/refund-store.js';
import { createPaymentService } from './payments/payment-service.js';
import { createDayReconciliation, type ReconcileDay } from './reconcile/reconcile-day.js';
import { createRunLeases } from './reconcile/run-leases.js';
import { createLoginWrites } from './users/login-writes.js';
import { createSessionStore } from './users/session-store.js';
import { createUserStore } from './users/user-store.js';
import { createOutbox, isLivemode } from './webhooks/outbox.js';
import { createWebhooks, type Webhooks } from './webhooks/service.js';
import { createLoginClient } from './wechat/login/code2session.js';

/** How long /metrics reuses its count of orders by state. */
const METRICS_COUNT_TTL_MS = 5000;
export interface ServiceOptions {
  config: Readonly<Config>;
  catalogue: Catalogue;
  log: Logger;
  clock?: Clock;
  /** Use an already-open database (tests, benchmarks) instead of opening config.databaseUrl. */
  database?: DbHandle;
  demo?: DemoRouteDeps;
  /** Waits between upstream retries; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Trust this CA for WeChat's hosts instead of the system store: tests against an HTTPS simulator. */
  wechatCa?: string;
}

export interface Service {
  app: FastifyInstance;
  database: DbHandle;
  /** The order reconciler; its start() and stop() drive the refund reconciler and the daily reconciliation too. */
  reconciler: Reconciler;
  refundReconciler: RefundReconciler;
  /** Reconciles one day against WeChat's bill (`weapp-pay reconcile`, POST /admin/reconciliations). */
  reconcileDay: ReconcileDay;
  /** Runs reconcileDay for yesterday once a day (RECONCILE_DAILY), in one instance. */
  dailyReconciliation: DailyReconciliation;
  /** The webhook deliverer; started with the reconciler by `serve` and the demo. */
  webhooks: Webhooks['deliverer'];
  /** Stops the reconciler, the HTTP server and (when this service opened it) the database. */
  close(): Promise<void>;
}

export async function createService(options: ServiceOptions): Promise<Service> {
  const { config, log, catalogue } = options;
  const clock = options.clock ?? systemClock;
  const database =
    options.database ??
    (await openDatabase(config.databaseUrl, {
      log,
      sqliteCacheMb: config.sqliteCacheMb,
      poolSize: config.databasePoolSize,
    }));
  try {
    await migrateToLatest(database);
  } catch (err) {
    // A service that never started must not leave a pool or a file handle open behind it.
    if (!options.database) await database.close().catch(() => {});
    throw err;
  }
  const { db } = database;

  const metrics = createMetrics();
  // Every state change that a webhook announces writes its event through this, in its own
  // transaction; livemode says whether the money is real (WeChat's own hosts) or simulated.
  const outbox = createOutbox({ livemode: isLivemode(config.wechat.payBaseUrl) });
  const orders = createOrderStore(db, outbox);
  const anomalies = createAnomalyStore(db, outbox);
  const users = createUserStore(db);
  const sessions = createSessionStore(db);
  const idempotent = createIdempotency({ store: createIdempotencyStore(db), clock });
  const { wechat } = config;
  // The API version is chosen here, once: everything below talks to the gateway ports.
  const v3 = wechat.v3 ? createV3Payments({ ...wechat, v3: wechat.v3 }, { clock, log }) : undefined;
  const wechatPayments =
    v3 ?? createV2Payments(wechat, { clock, ...(options.wechatCa && { wechatCa: options.wechatCa }) });
  const { gateway: pay, refundGateway, bills } = wechatPayments;
  await v3?.start();
  const loginClient = createLoginClient({
    baseUrl: wechat.apiBaseUrl,
    appid: wechat.appid,
    secret: wechat.secret,
    timeoutMs: wechat.timeoutMs,
  });

  const settle = createQuerySettler({
    orders,
    anomalies,
    pay,
    clock,
    log,
    metrics,
    sleep: options.sleep,
  });
  const orderService = createOrderService({
    orders,
    catalogue,
    pay,
    settle,
    clock,
    log,
    metrics,
    sleep: options.sleep,
    newOutTradeNo: createOutTradeNoGenerator(),
    settings: {
      orderTtlMs: config.orderTtlMs,
      maxOrderAmount: config.maxOrderAmount,
    },
  });
  const refundStore = createRefundStore(db, outbox);
  const refunds = createRefundService({
    refunds: refundStore,
    orders,
    anomalies,
    gateway: refundGateway,
    clock,
    log,
    metrics,
    newOutRefundNo: prefixed('R', createOutTradeNoGenerator()),
    sleep: options.sleep,
  });
  const settleNotified = createNotifiedSettlement({ orders, anomalies, clock, log, settings: wechat });
  const notifyV3 =
    v3 && wechat.v3
      ? createNotifyV3Service({
          orders,
          settleNotified,
          settleNotifiedRefund: createNotifiedRefundSettlement({ refunds, anomalies, clock, log }),
          notifications: createNotificationLog(db),
          clock,
          log,
          metrics,
          keys: v3.keys,
          refreshKeys: v3.refreshKeys,
          settings: { mchId: wechat.mchId, apiV3Key: wechat.v3.apiV3Key },
        })
      : undefined;
  const notify = createNotifyService({
    orders,
    anomalies,
    clock,
    log,
    metrics,
    settings: { appid: wechat.appid, mchId: wechat.mchId, mchKey: wechat.mchKey, signType: wechat.signType },
  });
  const login = createLoginService({
    login: loginClient,
    logins: createLoginWrites(db),
    clock,
    log,
    sessionTtlMs: config.sessionTtlMs,
  });
  const exchangeCode = createCodeExchange({ login: loginClient, users, clock, log });
  const notifyRefund = createRefundNotifyService({
    refunds,
    anomalies,
    clock,
    log,
    metrics,
    settings: { appid: wechat.appid, mchId: wechat.mchId, mchKey: wechat.mchKey },
  });
  const refundReconciler = createRefundReconciler({
    refunds: refundStore,
    service: refunds,
    clock,
    log,
    settings: config.reconcile,
  });
  const orderReconciler = createReconciler({
    orders,
    pay,
    settle,
    clock,
    log,
    metrics,
    sleep: options.sleep,
    settings: config.reconcile,
  });
  const reconcileDay = createDayReconciliation({
    db,
    outbox,
    bills,
    orders,
    settle,
    refunds,
    clock,
    log,
  });
  const dailyReconciliation = createDailyReconciliation({
    reconcileDay,
    leases: createRunLeases(db),
    clock,
    log,
    schedule: config.reconcileDaily,
  });
  // One switch for every job, so whoever starts the reconciler starts refunds' and the daily one too.
  const reconciler: Reconciler = {
    ...orderReconciler,
    start() {
      orderReconciler.start();
      refundReconciler.start();
      dailyReconciliation.start();
    },
    async stop() {
      await Promise.all([orderReconciler.stop(), refundReconciler.stop(), dailyReconciliation.stop()]);
    },
  };

  const payments = createPaymentService({
    orders: orderService,
    store: orders,
    users,
    refundsOf: (orderId) => refunds.listForOrder(orderId),
    clock,
    settings: { version: pay.version, maxOrderAmount: config.maxOrderAmount },
  });
  const webhooks = await createWebhooks({ db, outbox, clock, log, endpointFromEnv: config.webhook });

  const app = await buildApp({
    log,
    clock,
    catalogue,
    login,
    orders: orderService,
    idempotent,
    apiKeys: createApiKeys({ db, clock }),
    payments,
    code2Session: exchangeCode,
    // v2 notifications verify with the v2 key: without one (a v3-only merchant) the route is absent.
    ...(wechat.mchKey && { notify, notifyRefund }),
    ...(notifyV3 && { notifyV3 }),
    refunds,
    metrics,
    wechat: {
      apiVersion: wechat.apiVersion,
      appid: wechat.appid,
      mchId: wechat.mchId,
      payBaseUrl: wechat.payBaseUrl,
      apiBaseUrl: wechat.apiBaseUrl,
      notifyUrl: wechat.notifyUrl,
    },
    sessions,
    adminToken: config.adminToken,
    loginRatePerMinute: config.loginRatePerMinute,
    trustProxy: config.trustProxy,
    // The count reads the whole orders table: scrapes a few seconds apart share one.
    countOrders: cachedFor(
      METRICS_COUNT_TTL_MS,
      () => orders.countByStatus(),
      () => clock.now(),
    ),
    // A constant query: health checks run often and must not scan the orders table.
    pingDatabase: async () => {
      await sql`select 1`.execute(db);
    },
    console: createConsoleData(db),
    reconcileDay,
    webhooks: webhooks.admin,
    audit: () => runAudit(db, AUDIT_CHECKS),
    ...(options.demo ? { demo: options.demo } : {}),
  });

  return {
    app,
    database,
    reconciler,
    refundReconciler,
    reconcileDay,
    dailyReconciliation,
    webhooks: webhooks.deliverer,
    async close() {
      await reconciler.stop();
      await webhooks.deliverer.stop();
      await app.close();
      await pay.shutdown();
      await loginClient.close();
      if (!options.database) await database.close();
    },
  };
}

/** out_refund_no: "R" and an id made like out_trade_no (24 characters; WeChat allows 64). */
function prefixed(prefix: string, next: () => string): () => string {
  return () => `${prefix}${next()}`;
}
