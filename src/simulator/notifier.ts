import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { isSuccessfulNotifyReply } from '../wechat/v2/notify.js';
import type { SimBehaviour, SimLogger } from './config.js';
import { type ChosenFault, type FaultName, intParam, namesOf, takeFault } from './faults.js';
import { paymentNotificationBody, refundNotificationBody } from './notification-bodies.js';
import { createOrderQueues } from './order-queue.js';
import type { ScheduledTask, SimClock } from './sim-clock.js';
import type { NotificationAttempt, SimOrder, SimRefund, SimState } from './state.js';
import type { V3Notifications, V3Renderer } from './v3/notifications.js';

/**
 * Delivers notifications the way WeChat does: POST to the merchant's URL, judge the reply
 * (HTTP 200 and `return_code` SUCCESS), and on failure retry on the documented schedule, every
 * wait measured on the SimClock (divided by the time scale) from the time the previous attempt
 * was planned for, so slow attempts never drift the schedule. Different orders are notified
 * concurrently; one order's attempts (payment and refunds) go out one at a time through its own
 * queue, and an attempt whose time has come while another of its order is in flight is `queued`.
 * Every attempt is recorded for GET /sim/notifications. Faults: NOTIFY_DROP, NOTIFY_DUPLICATE,
 * DELAY, REORDER (old names NOTIFY_DELAY, NOTIFY_OUT_OF_ORDER), and for v3 SIGN_PROBE. Orders and
 * refunds made through v3 are notified in v3's JSON format, where HTTP 200 or 204 is success
 * whatever the body.
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
  /** REORDER: a held notification of the same order, sent once this one's first attempt is out. */
  releases?: () => void;
}

/** Largest merchant reply read; only the first 512 characters are kept anyway. */
const MAX_REPLY_BYTES = 64 * 1024;

const iso = (ms: number): string => new Date(ms).toISOString();

export function createNotifier(deps: NotifierDeps): Notifier {
  const { state, clock, behaviour, timeScale, log } = deps;
  const agent = new Agent({ keepAliveTimeout: 4000, connections: 32 });
  /** Per order: the notification REORDER holds back until the order's next one has gone out. */
  const held = new Map<string, { delivery: Delivery; release: () => void }>();
  const queues = createOrderQueues();
  const scaled = (seconds: number): number => (seconds * 1000) / timeScale;
  const orderKey = (mchId: string, outTradeNo: string) => `${mchId}\u0000${outTradeNo}`;

  const faultFor = (d: Delivery, name: FaultName): ChosenFault | undefined => {
    const names = namesOf(name);
    if (d.requestFault && names.includes(d.requestFault.fault)) return d.requestFault;
    return takeFault(state.faults, names, { mchId: d.mchId, outTradeNo: d.outTradeNo });
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
    rec.status = 'sending';
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

  /** Attempt `n`, planned for `plannedAt`; a failure schedules the next from that planned time. */
  async function attempt(d: Delivery, n: number, rec: NotificationAttempt, plannedAt: number): Promise<void> {
    const key = orderKey(d.mchId, d.outTradeNo);
    if (n === 1 && held.get(key)?.delivery === d) held.delete(key);
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
        const probe = newRecord(d, n, 1, plannedAt);
        probe.probe = true;
        await post(d, probe);
        probe.ok = false;
      }
      const records = [rec];
      for (let c = 2; c <= copies; c++) records.push(newRecord(d, n, c, plannedAt));
      // The copies race each other, like deliveries from several WeChat servers at once.
      await Promise.all(records.map((r) => post(d, r)));
      delivered = records.some((r) => r.ok);
    }
    if (n === 1) d.releases?.();
    const wait = behaviour.notifyRetrySchedule[n - 1];
    if (!delivered && wait !== undefined) scheduleAttempt(d, n + 1, plannedAt + scaled(wait));
  }

  /** Plans attempt `n` for `dueAt`; when it comes, it waits its turn in the order's queue. */
  function scheduleAttempt(
    d: Delivery,
    n: number,
    dueAt: number,
    rec = newRecord(d, n, 1, dueAt),
  ): ScheduledTask {
    rec.scheduled_at = iso(dueAt);
    return clock.schedule(dueAt, () =>
      queues.run(
        orderKey(d.mchId, d.outTradeNo),
        () => attempt(d, n, rec, dueAt),
        () => {
          rec.status = 'queued';
        },
      ),
    );
  }

  function start(d: Delivery): void {
    const delay = faultFor(d, 'DELAY');
    const firstAt = clock.now() + (delay ? scaled(intParam(delay.params, 'seconds', 60)) : 0);
    const key = orderKey(d.mchId, d.outTradeNo);
    const waiting = held.get(key);
    if (waiting) {
      // The later event this order's held notification was waiting for: it goes first.
      scheduleAttempt({ ...d, releases: waiting.release }, 1, firstAt);
      return;
    }
    const reorder = faultFor(d, 'REORDER');
    if (!reorder) {
      scheduleAttempt(d, 1, firstAt);
      return;
    }
    // Held until the order's next notification has gone out, or `seconds` at the latest.
    const rec = newRecord(d, 1, 1, firstAt);
    const fallback = scheduleAttempt(d, 1, firstAt + scaled(intParam(reorder.params, 'seconds', 3600)), rec);
    held.set(key, {
      delivery: d,
      release() {
        if (held.get(key)?.delivery !== d) return;
        held.delete(key);
        fallback.cancel();
        scheduleAttempt(d, 1, clock.now(), rec);
      },
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
