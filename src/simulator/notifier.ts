import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { isSuccessfulNotifyReply } from '../wechat/v2/notify.js';
import type { SimBehaviour, SimLogger } from './config.js';
import { type ChosenFault, type FaultName, intParam, takeFault } from './faults.js';
import { paymentNotificationBody, refundNotificationBody } from './notification-bodies.js';
import type { ScheduledTask, SimClock } from './sim-clock.js';
import type { NotificationAttempt, SimOrder, SimRefund, SimState } from './state.js';
import type { V3Notifications, V3Renderer } from './v3/notifications.js';

/**
 * Delivers notifications the way WeChat does: POST to the merchant's URL, judge the reply
 * (HTTP 200 and `return_code` SUCCESS), and on failure retry on the documented schedule, every
 * wait measured on the SimClock (divided by the time scale). Every attempt is recorded for
 * GET /sim/notifications. Faults: NOTIFY_DROP, NOTIFY_DUPLICATE, NOTIFY_DELAY, NOTIFY_OUT_OF_ORDER,
 * and for v3 SIGN_PROBE. Orders and refunds made through v3 are notified in v3's JSON format,
 * where HTTP 200 or 204 is success whatever the body.
 */

export interface Notifier {
  /** Queues the payment notification of a freshly paid order. */
  paymentSucceeded(order: SimOrder, requestFault?: ChosenFault): void;
  /** Queues the notification of a refund that reached a final state. */
  refundFinished(order: SimOrder, refund: SimRefund, requestFault?: ChosenFault): void;
  /** Forgets held notifications (POST /sim/reset). Scheduled attempts are cancelled by the clock. */
  reset(): void;
  close(): Promise<void>;
}

export interface NotifierDeps {
  state: SimState;
  clock: SimClock;
  behaviour: SimBehaviour;
  timeScale: number;
  log: SimLogger;
  /** Renders v3 notifications; without it, everything is notified in v2 format. */
  v3?: V3Notifications;
}

interface Delivery {
  kind: 'payment' | 'refund';
  mchId: string;
  outTradeNo: string;
  outRefundNo?: string;
  url: string;
  body: string;
  /** v3: each attempt's JSON body and freshly signed `Wechatpay-*` headers. */
  render?: V3Renderer;
  requestFault: ChosenFault | undefined;
}

/** Largest merchant reply read; only the first 512 characters are kept anyway. */
const MAX_REPLY_BYTES = 64 * 1024;

const iso = (ms: number): string => new Date(ms).toISOString();

export function createNotifier(deps: NotifierDeps): Notifier {
  const { state, clock, behaviour, timeScale, log } = deps;
  const agent = new Agent({ keepAliveTimeout: 4000, connections: 32 });
  /** Payment notifications held back by NOTIFY_OUT_OF_ORDER until the order's refund notification goes out. */
  const held = new Map<string, () => void>();
  const scaled = (seconds: number): number => (seconds * 1000) / timeScale;
  const orderKey = (mchId: string, outTradeNo: string) => `${mchId}\u0000${outTradeNo}`;

  const faultFor = (d: Delivery, name: FaultName): ChosenFault | undefined => {
    if (d.requestFault?.fault === name) return d.requestFault;
    return takeFault(state.faults, [name], { mchId: d.mchId, outTradeNo: d.outTradeNo });
  };

  const newRecord = (d: Delivery, attempt: number, copy: number, dueAt: number): NotificationAttempt => {
    const rec: NotificationAttempt = {
      id: `n${state.nextSerial()}`,
      kind: d.kind,
      mch_id: d.mchId,
      out_trade_no: d.outTradeNo,
      ...(d.outRefundNo ? { out_refund_no: d.outRefundNo } : {}),
      attempt,
      copy,
      scheduled_at: iso(dueAt),
      sent_at: null,
      url: d.url,
      status: 'scheduled',
      http_status: null,
      reply: null,
      ok: false,
    };
    state.notifications.push(rec);
    return rec;
  };

  async function post(d: Delivery, rec: NotificationAttempt): Promise<void> {
    rec.sent_at = iso(clock.now());
    try {
      const v3 = d.render ? await d.render() : undefined;
      // The sign probe: WeChat checks the merchant refuses a signature it could not have verified.
      if (v3 && rec.probe)
        v3.headers['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${randomBytes(192).toString('base64')}`;
      if (v3) rec.v3 = { headers: { ...v3.headers }, resource: v3.resource };
      const res = await request(d.url, {
        method: 'POST',
        dispatcher: agent,
        headers: v3
          ? { 'content-type': 'application/json', 'user-agent': 'Mozilla/4.0', ...v3.headers }
          : { 'content-type': 'text/xml', 'user-agent': 'Mozilla/4.0' },
        body: v3?.body ?? d.body,
        signal: AbortSignal.timeout(behaviour.notifyTimeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += chunk.length;
        if (size > MAX_REPLY_BYTES) break;
        chunks.push(chunk);
      }
      const reply = Buffer.concat(chunks);
      rec.http_status = res.statusCode;
      rec.reply = reply.toString('utf8').slice(0, 512);
      const accepted = v3
        ? res.statusCode === 200 || res.statusCode === 204
        : isSuccessfulNotifyReply(res.statusCode, reply);
      rec.ok = size <= MAX_REPLY_BYTES && accepted;
      rec.status = rec.ok ? 'delivered' : 'failed';
    } catch (error) {
      const e = error as Error;
      rec.status = 'failed';
      rec.error = e.name === 'TimeoutError' ? `timeout after ${behaviour.notifyTimeoutMs} ms` : e.message;
    }
    if (!rec.ok)
      log.warn(`notification ${rec.id} to ${d.url} failed: ${rec.error ?? `HTTP ${rec.http_status}`}`);
  }

  async function attempt(d: Delivery, n: number, rec: NotificationAttempt): Promise<void> {
    let delivered = false;
    if (faultFor(d, 'NOTIFY_DROP')) {
      rec.sent_at = iso(clock.now());
      rec.status = 'dropped';
      rec.error = 'NOTIFY_DROP: never sent';
    } else {
      const duplicate = faultFor(d, 'NOTIFY_DUPLICATE');
      const copies = Math.max(
        behaviour.notifyCopies,
        duplicate ? intParam(duplicate.params, 'copies', 2) : 1,
      );
      if (d.render && faultFor(d, 'SIGN_PROBE')) {
        // The probe goes first and counts for nothing; the correctly signed attempt follows.
        const probe = newRecord(d, n, 1, clock.now());
        probe.probe = true;
        await post(d, probe);
        probe.ok = false;
      }
      const records = [rec];
      for (let c = 2; c <= copies; c++) records.push(newRecord(d, n, c, clock.now()));
      // The copies race each other, like deliveries from several WeChat servers at once.
      await Promise.all(records.map((r) => post(d, r)));
      delivered = records.some((r) => r.ok);
    }
    if (d.kind === 'refund' && n === 1) held.get(orderKey(d.mchId, d.outTradeNo))?.();
    const wait = behaviour.notifyRetrySchedule[n - 1];
    if (!delivered && wait !== undefined) scheduleAttempt(d, n + 1, clock.now() + scaled(wait));
  }

  const sameDelivery = (r: NotificationAttempt, d: Delivery): boolean =>
    r.kind === d.kind &&
    r.mch_id === d.mchId &&
    r.out_trade_no === d.outTradeNo &&
    r.out_refund_no === d.outRefundNo;

  function scheduleAttempt(d: Delivery, n: number, dueAt: number): ScheduledTask {
    const rec = newRecord(d, n, 1, dueAt);
    return clock.schedule(dueAt, () => attempt(d, n, rec));
  }

  function start(d: Delivery): void {
    const delay = faultFor(d, 'NOTIFY_DELAY');
    const firstAt = clock.now() + (delay ? scaled(intParam(delay.params, 'seconds', 60)) : 0);
    const outOfOrder = d.kind === 'payment' ? faultFor(d, 'NOTIFY_OUT_OF_ORDER') : undefined;
    if (!outOfOrder) {
      scheduleAttempt(d, 1, firstAt);
      return;
    }
    // Held until the refund notification of this order has gone out, or `seconds` at the latest.
    const key = orderKey(d.mchId, d.outTradeNo);
    const fallback = scheduleAttempt(d, 1, firstAt + scaled(intParam(outOfOrder.params, 'seconds', 3600)));
    held.set(key, () => {
      held.delete(key);
      fallback.cancel();
      const placeholder = state.notifications.findLast((r) => r.attempt === 1 && sameDelivery(r, d));
      if (placeholder) state.notifications.splice(state.notifications.indexOf(placeholder), 1);
      scheduleAttempt(d, 1, clock.now());
    });
  }

  return {
    paymentSucceeded(order, requestFault) {
      const merchant = state.merchants.get(order.mchId);
      if (!merchant) return;
      const render = order.api === 'v3' ? deps.v3?.payment(order) : undefined;
      if (order.api === 'v3' && !render) return;
      start({
        kind: 'payment',
        mchId: order.mchId,
        outTradeNo: order.outTradeNo,
        url: order.notifyUrl,
        body: render ? '' : paymentNotificationBody(order, merchant),
        ...(render ? { render } : {}),
        requestFault,
      });
    },
    refundFinished(order, refund, requestFault) {
      const merchant = state.merchants.get(order.mchId);
      const url = refund.notifyUrl ?? merchant?.refundNotifyUrl;
      if (!merchant || !url) return;
      const render = refund.api === 'v3' ? deps.v3?.refund(order, refund) : undefined;
      if (refund.api === 'v3' && !render) return;
      start({
        kind: 'refund',
        mchId: order.mchId,
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
        url,
        body: render ? '' : refundNotificationBody(order, refund, merchant),
        ...(render ? { render } : {}),
        requestFault,
      });
    },
    reset() {
      held.clear();
    },
    async close() {
      held.clear();
      await agent.destroy();
    },
  };
}
