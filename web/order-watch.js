/**
 * Watches one order while it is on screen: the order as the service knows it, the service's
 * event log (reconciler queries included) and the simulator's delivery attempts, all feeding
 * the timeline. The page decides what to show from `order.status` alone, so "paid" can only
 * ever come from the server.
 *
 * @example
 * const watch = createOrderWatch({ api, simulatorUrl, order, timeline, onOrder: render });
 * const settled = await watch.waitUntil((o) => o.status !== 'PENDING', 10_000);
 */
import {
  lostNotificationSettledEntry,
  notificationEntry,
  serviceEventEntry,
  statusSeenEntry,
} from './timeline-entries.js';

export function createOrderWatch({ api, simulatorUrl, order, timeline, onOrder, intervalMs = 1000 }) {
  const sim = new URL(simulatorUrl).origin;
  let latest = order;
  let timer = null;
  let stopped = false;
  let syncTapped = false;
  const waiters = new Set();

  function seen(next) {
    const changed = next.status !== latest.status;
    // A refund asked for, or one that settles, changes what the page shows without always
    // changing the order's status (a second partial refund), so it redraws the page too.
    const redraw = changed || refundsKey(next) !== refundsKey(latest);
    latest = next;
    if (changed) timeline.add(statusSeenEntry(next));
    for (const w of waiters) if (w.predicate(next)) w.resolve(next);
    if (redraw) onOrder(next);
  }

  async function tick() {
    const [orderRes, eventsRes, attemptsRes] = await Promise.allSettled([
      api.getOrder(order.id),
      api.events(order.id),
      fetch(`${sim}/sim/notifications?out_trade_no=${encodeURIComponent(order.outTradeNo)}`).then((r) =>
        r.ok ? r.json() : { attempts: [] },
      ),
    ]);
    if (stopped) return;
    // A delivery attempt causes the service's events, so it goes first in the panel.
    if (attemptsRes.status === 'fulfilled') {
      for (const attempt of attemptsRes.value.attempts ?? []) timeline.add(notificationEntry(attempt));
    }
    if (eventsRes.status === 'fulfilled') {
      const events = foldStateChanges(eventsRes.value);
      for (const { index, event } of events) {
        timeline.add(serviceEventEntry(`event:${order.id}:${index}`, event));
      }
      if (!syncTapped && settledWithoutNotification(events.map((e) => e.event))) {
        timeline.add(lostNotificationSettledEntry(order));
      }
    }
    if (orderRes.status === 'fulfilled') seen(orderRes.value);
  }

  async function loop() {
    if (stopped) return;
    await tick().catch(() => {});
    if (!stopped) timer = setTimeout(loop, intervalMs);
  }

  return {
    start() {
      loop();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const w of waiters) w.resolve(latest);
      waiters.clear();
    },
    /** Records an order the page got another way (sync, close) so the view and timeline agree. */
    seen,
    /** "I paid" was tapped: a query that settles the order now is the person's, not the reconciler's. */
    syncTapped() {
      syncTapped = true;
    },
    get latest() {
      return latest;
    },
    /** Resolves with the first order matching predicate, or with the latest one after timeoutMs. */
    waitUntil(predicate, timeoutMs) {
      if (predicate(latest)) return Promise.resolve(latest);
      return new Promise((resolve) => {
        const waiter = {
          predicate,
          resolve: (o) => {
            clearTimeout(waiter.timer);
            waiters.delete(waiter);
            resolve(o);
          },
        };
        waiter.timer = setTimeout(() => waiter.resolve(latest), timeoutMs);
        waiters.add(waiter);
      });
    },
  };
}

/**
 * A close writes its reason and the state change as two `state_changed` events in the same
 * instant; they are one thing to a person, so they become one entry, keyed by the first.
 */
function foldStateChanges(events) {
  const out = [];
  events.forEach((event, index) => {
    const last = out[out.length - 1];
    if (
      last &&
      event.type === 'state_changed' &&
      last.event.type === 'state_changed' &&
      last.event.createdAt === event.createdAt
    ) {
      last.event = { ...last.event, data: { ...last.event.data, ...event.data } };
    } else {
      out.push({ index, event });
    }
  });
  return out;
}

const refundsKey = (order) => (order.refunds ?? []).map((r) => `${r.outRefundNo}:${r.status}`).join(',');

/** PAID by a query (not a notification), and no notification ever reached the service. */
function settledWithoutNotification(events) {
  const paidByQuery = events.some(
    (e) => e.type === 'state_changed' && e.data?.to === 'PAID' && e.data?.paidSource === 'query',
  );
  return paidByQuery && !events.some((e) => e.type === 'notification_received');
}
