import type { Clock } from '../../src/clock.js';
import type { Db } from '../../src/db/database.js';
import { createLogger } from '../../src/observability/logger.js';
import { createDeliverer, type DelivererSettings } from '../../src/webhooks/deliverer.js';
import { createDeliveryStore } from '../../src/webhooks/delivery-store.js';
import { fanOut } from '../../src/webhooks/fan-out.js';
import { postWebhook } from '../../src/webhooks/post-webhook.js';

/** A deliverer on `db` POSTing for real, its jitter at the middle (waits are exactly 10 s, 20 s…). */
export function testDeliverer(
  db: Db,
  clock: Clock,
  settings: Partial<DelivererSettings> = {},
  owner?: string,
) {
  return createDeliverer({
    store: createDeliveryStore(db),
    fanOut: (now) => fanOut(db, now),
    post: postWebhook,
    clock,
    log: createLogger('silent'),
    random: () => 0.5,
    ...(owner && { owner }),
    settings: { intervalMs: 60_000, timeoutMs: 2000, maxConcurrent: 8, leaseMs: 60_000, ...settings },
  });
}
