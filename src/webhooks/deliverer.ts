import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ClaimedDelivery, DeliveryStore } from './delivery-store.js';
import type { PostWebhook } from './post-webhook.js';
import { retryDelayMs } from './retry-schedule.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface DelivererSettings {
  /** The safety net: a cycle runs at least this often, wake-ups or not. */
  intervalMs: number;
  /** A 2xx must arrive within this; 10 s. */
  timeoutMs: number;
  /** POSTs in flight at once, per instance. */
  maxConcurrent: number;
  /** How long a claimed delivery is ours: well past the timeout, so a live attempt is never taken over. */
  leaseMs: number;
}

export const DEFAULT_DELIVERER_SETTINGS: DelivererSettings = {
  intervalMs: 5000,
  timeoutMs: 10_000,
  // The deliverer keeps up only while its slots cover a claim, the POSTs and the finish of every
  // delivery in flight. 32 fell behind a full notification load on PostgreSQL (PAID -> 2xx p99
  // 1.2 s in the webhooks bench scenario) where 64 kept up; once notifications got cheaper, 64
  // fell behind on both databases (p99 0.6-2.8 s) where 128 keeps up (50-190 ms).
  // docs/performance.md, "Webhook delivery: 128 slots".
  maxConcurrent: 128,
  leaseMs: 60_000,
};

export interface DelivererDeps {
  store: DeliveryStore;
  /** Turns new events into deliveries (fan-out.ts); run before each claim. */
  fanOut(now: number): Promise<number>;
  post: PostWebhook;
  clock: Clock;
  log: Logger;
  settings: DelivererSettings;
  /** [0, 1); the retry jitter. */
  random?: () => number;
  /** Names this instance in leases and attempts. */
  owner?: string;
  userAgent?: string;
}

export type Deliverer = ReturnType<typeof createDeliverer>;

/**
 * Slots freed by finished POSTs are refilled together: a claim is a write transaction (a commit,
 * an fsync on SQLite), so one claim per freed slot made every delivery pay a commit of its own.
 * A claim waits until a quarter of the slots are free, or at most this long.
 */
const CLAIM_DELAY_MS = 25;

/**
 * Sends webhook deliveries. A pump claims due deliveries up to `maxConcurrent` in flight and
 * starts their POSTs; finished POSTs free slots, which are claimed again a quarter at a time
 * (or after CLAIM_DELAY_MS), so one claim's commit serves many deliveries. It is woken at once when
 * a transaction that wrote events commits in this process (outbox.onCommitted), and by an
 * interval as the safety net for everything else (other instances' events, retries coming due,
 * a wake-up lost in a crash).
 */
export function createDeliverer(deps: DelivererDeps) {
  const { store, clock, log, settings } = deps;
  const random = deps.random ?? Math.random;
  const owner = deps.owner ?? `deliverer-${randomBytes(4).toString('hex')}`;
  const inFlight = new Set<Promise<void>>();
  const refillAt = Math.max(1, Math.floor(settings.maxConcurrent / 4));
  let pumping: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  /** Armed while freed slots wait for more to free up; when it fires, the next fill claims. */
  let claimTimer: NodeJS.Timeout | undefined;
  let claimDue = false;
  /** New events may wait for their fan-out: set by every outside wake-up, not by a freed slot. */
  let eventsWaiting = true;
  let stopped = true;

  const free = () => settings.maxConcurrent - inFlight.size;
  /** Whether a claim now would be worth its commit: enough free slots, none busy, or waited enough. */
  const worthClaiming = () => inFlight.size === 0 || free() >= refillAt || claimDue;

  function claimSoon(): void {
    if (claimTimer || stopped) return;
    claimTimer = setTimeout(() => {
      claimTimer = undefined;
      claimDue = true;
      pump();
    }, CLAIM_DELAY_MS);
    claimTimer.unref();
  }

  async function attempt(delivery: ClaimedDelivery): Promise<void> {
    const startedAt = clock.now();
    const t = Math.floor(startedAt / 1000);
    const result = await deps.post({
      url: delivery.url,
      body: delivery.body,
      timeoutMs: settings.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': deps.userAgent ?? 'weapp-pay-webhooks',
        [SIGNATURE_HEADER]: signatureHeader(delivery.body, delivery.secrets, t),
      },
    });
    const now = clock.now();
    const finished = await store.finish(
      delivery,
      { ...result, startedAt },
      { now, owner, retryAt: now + retryDelayMs(delivery.attempt, random) },
    );
    const fields = { eventId: delivery.eventId, endpointId: delivery.endpointId, attempt: delivery.attempt };
    if (result.ok) log.debug({ ...fields, latencyMs: Math.round(result.latencyMs) }, 'webhook delivered');
    else
      log.warn(
        { ...fields, status: result.statusCode, error: result.error, outcome: finished.status },
        'webhook attempt failed',
      );
    if (finished.endpointDisabled) {
      log.error(
        { endpointId: delivery.endpointId },
        'webhook endpoint disabled: every delivery failed for 3 days',
      );
    }
  }

  /**
   * Fans out, then claims what fits in the free slots and starts it, unless too few slots are
   * free to be worth a claim yet (then a claim follows within CLAIM_DELAY_MS). Returns the POSTs
   * started.
   */
  async function fill(): Promise<Promise<void>[]> {
    if (eventsWaiting) {
      eventsWaiting = false;
      // A fan-out that found events looks once more (it takes a limited number at a time); a
      // finished POST brings no new events, so it does not pay for this read.
      if ((await deps.fanOut(clock.now())) > 0) eventsWaiting = true;
    }
    const slots = free();
    if (slots <= 0) return [];
    if (!worthClaiming()) {
      claimSoon();
      return [];
    }
    claimDue = false;
    clearTimeout(claimTimer);
    claimTimer = undefined;
    const claimed = await store.claim({ now: clock.now(), limit: slots, leaseMs: settings.leaseMs, owner });
    if (claimed.length === slots) again = true;
    return claimed.map((delivery) => {
      const running = attempt(delivery)
        .catch((err) => log.error({ err, deliveryId: delivery.id }, 'webhook attempt could not be recorded'))
        .finally(() => {
          inFlight.delete(running);
          if (stopped) return;
          if (worthClaiming()) pump();
          else claimSoon();
        });
      inFlight.add(running);
      return running;
    });
  }

  /** Something outside may have new work: events committed, retries come due, the interval. */
  function wake(): void {
    eventsWaiting = true;
    pump();
  }

  /** Runs fill() until nothing more is asked for; one pump at a time. */
  function pump(): void {
    if (stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = (async () => {
      do {
        again = false;
        try {
          await fill();
        } catch (err) {
          log.error({ err }, 'webhook deliverer cycle failed');
          break;
        }
      } while ((again || eventsWaiting) && !stopped);
    })().finally(() => {
      pumping = undefined;
    });
  }

  return {
    owner,
    start(): void {
      if (timer) return;
      stopped = false;
      timer = setInterval(wake, settings.intervalMs);
      timer.unref();
      wake();
    },
    /** Delivers what is due now, without the timer: for tests and `runOnce` jobs. Waits for every POST. */
    async runOnce(): Promise<number> {
      eventsWaiting = true;
      const started = await fill();
      await Promise.all(started);
      return started.length;
    },
    wake,
    /** Stops claiming, and waits for the POSTs in flight to be recorded. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      clearTimeout(claimTimer);
      claimTimer = undefined;
      await pumping;
      await Promise.all([...inFlight]);
    },
  };
}
