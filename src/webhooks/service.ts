import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { createDeliverer, DEFAULT_DELIVERER_SETTINGS, type DelivererSettings } from './deliverer.js';
import { createDeliveryStore } from './delivery-store.js';
import { createEndpointStore } from './endpoint-store.js';
import { createEventLog } from './event-log.js';
import { fanOut } from './fan-out.js';
import type { Outbox } from './outbox.js';
import { type PostWebhook, postWebhook } from './post-webhook.js';

export type Webhooks = Awaited<ReturnType<typeof createWebhooks>>;

/**
 * The webhook side of the service, put together: the WEBHOOK_URL endpoint brought in line with
 * the environment, the deliverer (woken by the outbox after each commit that wrote events), and
 * what the admin routes need.
 */
export async function createWebhooks(deps: {
  db: Db;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  endpointFromEnv: { url: string; secret: string } | undefined;
  settings?: Partial<DelivererSettings>;
  post?: PostWebhook;
}) {
  const { db, clock, log } = deps;
  const endpoints = createEndpointStore(db);
  await endpoints.syncFromEnv(deps.endpointFromEnv, clock.now());
  const store = createDeliveryStore(db);
  // Event streams wake when this process puts events in the log, or commits some to the outbox.
  const logListeners = new Set<() => void>();
  const logGrew = () => {
    for (const listener of logListeners) listener();
  };
  const onLogGrowth = (listener: () => void) => {
    logListeners.add(listener);
    const stopCommits = deps.outbox.onCommitted(listener);
    return () => {
      logListeners.delete(listener);
      stopCommits();
    };
  };
  const deliverer = createDeliverer({
    store,
    fanOut: async (now) => {
      const dispatched = await fanOut(db, now);
      if (dispatched > 0) logGrew();
      return dispatched;
    },
    post: deps.post ?? postWebhook,
    clock,
    log,
    settings: { ...DEFAULT_DELIVERER_SETTINGS, ...deps.settings },
  });
  deps.outbox.onCommitted(() => deliverer.wake());
  return {
    deliverer,
    admin: {
      endpoints,
      events: createEventLog(db),
      resend: store.resend,
      wake: () => deliverer.wake(),
      onLogGrowth,
    },
  };
}
