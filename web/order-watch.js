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
import { notificationEntry, serviceEventEntry, statusSeenEntry } from './timeline-entries.js';

export function createOrderWatch({ api, simulatorUrl, order, timeline, onOrder, intervalMs = 1000 }) {
  const sim = new URL(simulatorUrl).origin;
  let latest = order;
  let timer = null;
  let stopped = false;
  const waiters = new Set();

  function seen(next) {
    const changed = next.status !== latest.status;
    latest = next;
    if (changed) timeline.add(statusSeenEntry(next));
    for (const w of waiters) if (w.predicate(next)) w.resolve(next);
    if (changed) onOrder(next);
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
      eventsRes.value.forEach((event, i) => {
        timeline.add(serviceEventEntry(order.id, i, event));
      });
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
