/**
 * The one composition root. It takes a validated, frozen Config (read from the environment by
 * the CLI), builds every dependency once and hands them down. Nothing below this file reads
 * process.env or imports a global database.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { createConsoleData } from './admin/console-data.js';
import { createLoginService } from './auth/login-service.js';
import type { Catalogue } from './catalogue/catalogue.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { migrateToLatest } from './db/migrations.js';
import { type DbHandle, openDatabase } from './db/open.js';
import { buildApp } from './http/app.js';
import type { DemoRouteDeps } from './http/routes/demo.js';
import { createReconciler, type Reconciler } from './jobs/reconciler.js';
import { createMetrics } from './observability/metrics.js';
import { createAnomalyStore } from './orders/anomaly-store.js';
import { createIdempotencyStore } from './orders/idempotency-store.js';
import { createNotifyService } from './orders/notify-service.js';
import { createOrderService } from './orders/order-service.js';
import { createOrderStore } from './orders/order-store.js';
import { createOutTradeNoGenerator } from './orders/out-trade-no.js';
import { createQuerySettler } from './orders/query-settler.js';
import { createSessionStore } from './users/session-store.js';
import { createUserStore } from './users/user-store.js';
import { createLoginClient } from './wechat/login/code2session.js';
import { createV2Client } from './wechat/v2/client.js';

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
}

export interface Service {
  app: FastifyInstance;
  database: DbHandle;
  reconciler: Reconciler;
  /** Stops the reconciler, the HTTP server and (when this service opened it) the database. */
  close(): Promise<void>;
}

export async function createService(options: ServiceOptions): Promise<Service> {
  const { config, log, catalogue } = options;
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(config.databaseUrl, { log }));
  try {
    await migrateToLatest(database);
  } catch (err) {
    // A service that never started must not leave a pool or a file handle open behind it.
    if (!options.database) await database.close().catch(() => {});
    throw err;
  }
  const { db } = database;

  const metrics = createMetrics();
  const orders = createOrderStore(db);
  const anomalies = createAnomalyStore(db);
  const users = createUserStore(db);
  const sessions = createSessionStore(db);
  const idempotency = createIdempotencyStore(db);
  const { wechat } = config;
  const pay = createV2Client({
    baseUrl: wechat.payBaseUrl,
    appid: wechat.appid,
    mchId: wechat.mchId,
    key: wechat.mchKey,
    signType: wechat.signType,
    timeoutMs: wechat.timeoutMs,
  });
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
    merchant: { appid: wechat.appid, mchId: wechat.mchId },
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
      appid: wechat.appid,
      mchKey: wechat.mchKey,
      signType: wechat.signType,
      notifyUrl: wechat.notifyUrl,
      orderTtlMs: config.orderTtlMs,
      maxOrderAmount: config.maxOrderAmount,
    },
  });
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
    users,
    sessions,
    clock,
    log,
    sessionTtlMs: config.sessionTtlMs,
  });
  const reconciler = createReconciler({
    orders,
    pay,
    settle,
    clock,
    log,
    metrics,
    sleep: options.sleep,
    settings: config.reconcile,
  });

  const app = await buildApp({
    log,
    clock,
    catalogue,
    login,
    orders: orderService,
    idempotency,
    notify,
    metrics,
    sessions,
    users,
    adminToken: config.adminToken,
    loginRatePerMinute: config.loginRatePerMinute,
    trustProxy: config.trustProxy,
    countOrders: () => orders.countByStatus(),
    // A constant query: health checks run often and must not scan the orders table.
    pingDatabase: async () => {
      await sql`select 1`.execute(db);
    },
    console: createConsoleData(db),
    ...(options.demo ? { demo: options.demo } : {}),
  });

  return {
    app,
    database,
    reconciler,
    async close() {
      await reconciler.stop();
      await app.close();
      await pay.close();
      await loginClient.close();
      if (!options.database) await database.close();
    },
  };
}
