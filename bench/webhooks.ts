/**
 * The webhooks scenario: the v2 notification load (scenario 1) with a webhook endpoint whose
 * receiver, a separate process, answers 200 at once. Each PAID order's payment.succeeded event
 * goes out through the outbox; we measure delivery throughput and the delay from the commit that
 * made the order PAID to the receiver's 2xx. That commit's time is the order's `updated_at` (nothing
 * changes a PAID order during the run); `paid_at` is WeChat's `time_end`, to the second, written
 * into the notifications when they were prepared before the load, so it cannot time delivery.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DbHandle } from '../src/db/open.js';
import type { BenchDatabase } from './databases.js';
import { OUT_DIR } from './databases.js';
import { startWebhookReceiver } from './processes.js';

export interface WebhookDeliveryStats {
  /** payment.succeeded events written by the run. */
  events: number;
  /** Distinct events the receiver answered 2xx. */
  delivered: number;
  /** Deliveries per second, from the first 2xx to the last. */
  perSecond: number;
  /** From the commit that made the order PAID to the receiver's 2xx, in ms. */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** How long after the load stopped the last delivery was answered, in seconds. */
  drainS: number;
}

/** How long to wait, after the load, for every event to be delivered. */
const DRAIN_TIMEOUT_MS = 120_000;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

export async function webhookDelivery<T>(
  _ctx: unknown,
  database: BenchDatabase,
  run: (env: Record<string, string>, afterLoad: () => Promise<void>) => Promise<T>,
): Promise<T & { webhooks: WebhookDeliveryStats }> {
  mkdirSync(OUT_DIR, { recursive: true });
  const outFile = join(OUT_DIR, `webhook-receiver-${process.pid}.txt`);
  const receiver = await startWebhookReceiver(outFile);
  let loadEnded = 0;
  let measured: T;
  try {
    const env = { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('hex')}` };
    measured = await run(env, async () => {
      loadEnded = Date.now();
      await drained(database);
    });
  } finally {
    await receiver.stop();
  }
  const received = readFileSync(outFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '));
  rmSync(outFile, { force: true });
  const answeredAt = new Map<string, number>();
  for (const [, paymentId, ms] of received) {
    if (paymentId && !answeredAt.has(paymentId)) answeredAt.set(paymentId, Number(ms));
  }
  const handle = await database.openForSetup();
  try {
    const events = await eventCount(handle);
    const paid = await handle.db
      .selectFrom('orders')
      .select(['id', 'updated_at'])
      .where('status', '=', 'PAID')
      .execute();
    const delays = paid
      .filter((o) => answeredAt.has(o.id))
      .map((o) => answeredAt.get(o.id)! - Number(o.updated_at))
      .sort((a, b) => a - b);
    const times = [...answeredAt.values()].sort((a, b) => a - b);
    const spanS = times.length > 1 ? (times.at(-1)! - times[0]!) / 1000 : 0;
    return {
      ...measured,
      webhooks: {
        events,
        delivered: answeredAt.size,
        perSecond: spanS > 0 ? answeredAt.size / spanS : 0,
        delayP50Ms: percentile(delays, 50),
        delayP99Ms: percentile(delays, 99),
        delayMaxMs: delays.at(-1) ?? 0,
        drainS: times.length > 0 ? Math.max(0, (times.at(-1)! - loadEnded) / 1000) : 0,
      },
    };
  } finally {
    await handle.close();
  }
}

const eventCount = async (handle: DbHandle) =>
  Number(
    (
      await handle.db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Waits until every event in the outbox has a succeeded delivery (or the timeout). */
async function drained(database: BenchDatabase): Promise<void> {
  const handle = await database.openForSetup();
  try {
    const end = Date.now() + DRAIN_TIMEOUT_MS;
    while (Date.now() < end) {
      const events = await eventCount(handle);
      const done = await handle.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'succeeded')
        .executeTakeFirstOrThrow();
      if (Number(done.n) >= events) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await handle.close();
  }
}
