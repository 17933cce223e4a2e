/**
 * The purchase, step by step, as a mini program runs it: create the order on the service,
 * hand the signed parameters to wx.requestPayment, then ask the service, never the cashier,
 * whether the order is paid. `phase` is what the phone knows; the order status is what the
 * server knows, and the result page shows "paid" only from the latter.
 */
import { createOrderWatch } from './order-watch.js';
import { newIdempotencyKey } from './service-api.js';
import { errorEntry, orderEntry, paymentEntry, payResultEntry, syncEntry } from './timeline-entries.js';

export const CANCEL_ERR_MSG = 'requestPayment:fail cancel';

export function createCheckout({ api, wx, timeline, simulatorUrl, view, onOrderCreated, timing = {} }) {
  const { pollMs = 1000, confirmMs = 10_000, afterSyncMs = 3000 } = timing;
  let current = null; // { order, payment, watch, phase, errMsg }

  function show(extra = {}) {
    if (!current) return;
    view.show({ order: current.watch.latest, phase: current.phase, errMsg: current.errMsg, ...extra });
  }

  function setPhase(phase, errMsg) {
    current.phase = phase;
    current.errMsg = errMsg;
    show();
  }

  /**
   * `idempotencyKey` is passed again by "try again" after a failure, so the service can
   * recognise the same purchase instead of opening a second order.
   */
  async function buy(product, quantity, idempotencyKey = newIdempotencyKey()) {
    current?.watch.stop();
    current = null;
    view.show({ phase: 'creating', product, quantity });
    let created;
    try {
      created = await api.createOrder({ sku: product.sku, quantity }, idempotencyKey);
    } catch (err) {
      timeline.add(errorEntry('POST /api/orders', err));
      const retryKey = sameKeyOnRetry(err) ? idempotencyKey : undefined;
      view.show({ phase: 'error', error: err, product, quantity, idempotencyKey: retryKey });
      return;
    }
    timeline.add(orderEntry(created.order));
    await onOrderCreated?.(created.order);
    timeline.add(paymentEntry(created.payment));
    const watch = createOrderWatch({
      api,
      simulatorUrl,
      order: created.order,
      timeline,
      intervalMs: pollMs,
      onOrder: () => show(),
    });
    current = { order: created.order, payment: created.payment, watch, phase: 'paying', errMsg: null };
    watch.start();
    await pay();
  }

  async function pay() {
    const session = current;
    setPhase('paying');
    let errMsg;
    try {
      errMsg = (await wx.requestPayment(session.payment)).errMsg;
    } catch (err) {
      errMsg = err.errMsg ?? String(err);
    }
    if (session !== current) return;
    timeline.add(payResultEntry(errMsg));
    if (errMsg !== 'requestPayment:ok') {
      setPhase(errMsg === CANCEL_ERR_MSG ? 'cancelled' : 'failed', errMsg);
      return;
    }
    // The cashier's "ok" only means the phone finished; the server decides what happened.
    setPhase('confirming');
    const order = await session.watch.waitUntil((o) => o.status !== 'PENDING', confirmMs);
    if (session === current && order.status === 'PENDING') setPhase('unconfirmed');
  }

  /** "I paid, check": the service queries WeChat; it never takes the phone's word for it. */
  async function sync() {
    const session = current;
    session.watch.syncTapped();
    setPhase('syncing');
    try {
      const order = await api.sync(session.order.id);
      timeline.add(syncEntry(order));
      session.watch.seen(order);
      await session.watch.waitUntil((o) => o.status !== 'PENDING', afterSyncMs);
    } catch (err) {
      timeline.add(errorEntry('POST /sync', err));
    }
    if (session === current && session.watch.latest.status === 'PENDING') setPhase('still-unconfirmed');
  }

  async function close() {
    const session = current;
    try {
      session.watch.seen(await api.close(session.order.id));
    } catch (err) {
      timeline.add(errorEntry('POST /close', err));
    }
    if (session === current) show();
  }

  return {
    buy,
    pay,
    sync,
    close,
    leave() {
      current?.watch.stop();
      current = null;
    },
    get current() {
      return current;
    },
  };
}

/**
 * When the order's fate is unknown or unfinished (no answer, in flight, WeChat unavailable),
 * the retry must carry the same key so the service completes that order. A refusal needs a
 * new purchase.
 */
function sameKeyOnRetry(err) {
  return [0, 409, 500, 503].includes(err.status ?? 0);
}
