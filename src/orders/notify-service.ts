import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Metrics } from '../observability/metrics.js';
import {
  NotificationError,
  notifyReply,
  parseNotificationXml,
  verifyNotificationFields,
} from '../wechat/v2/notify.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import { createNotifiedSettlement } from './notified-settlement.js';
import type { Order } from './order.js';
import type { AnomalyStorePort, OrderStorePort } from './ports.js';
import { evidenceFromV2Notification, orderSignType } from './v2-evidence.js';

export interface NotifyServiceDeps {
  orders: OrderStorePort;
  anomalies: AnomalyStorePort;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  settings: { appid: string; mchId: string; mchKey: string; signType: V2SignType };
}

/** What to send back to WeChat: always HTTP 200 with this XML; FAIL asks WeChat to retry. */
export interface NotifyOutcome {
  ok: boolean;
  reply: string;
  /** For metrics and logs: why the notification was (not) accepted. */
  outcome: string;
  /** The order it named, when there is one (for the request log). */
  orderId?: string;
}

const SUCCESS_REPLY = notifyReply(true);

/**
 * Handles WeChat's v2 payment notification, safe by default:
 * strict parse → the order it names (only to learn the algorithm the order was placed with) →
 * signature over every received field with that algorithm → notified-settlement.ts (our appid
 * and mch_id, a known order, decide.ts, one conditional update), the same path as v3's. The
 * reply is built only after that has committed.
 *
 * A duplicate gets SUCCESS and changes nothing. A forgery gets FAIL and writes nothing.
 */
export function createNotifyService(deps: NotifyServiceDeps) {
  const { orders, log, metrics, settings } = deps;
  const settleNotified = createNotifiedSettlement(deps);

  function fail(outcome: string, message: string): NotifyOutcome {
    metrics.notification(outcome);
    return { ok: false, reply: notifyReply(false, message), outcome };
  }

  function succeed(outcome: string): NotifyOutcome {
    metrics.notification(outcome);
    return { ok: true, reply: SUCCESS_REPLY, outcome };
  }

  return async function handle(raw: Buffer): Promise<NotifyOutcome> {
    let n: ReturnType<typeof verifyNotificationFields>;
    let order: Order | undefined;
    try {
      // Parsed once: the order it names is read before the notification is trusted, only to
      // learn the algorithm that order was placed with.
      const fields = parseNotificationXml(raw);
      const outTradeNo = fields.out_trade_no;
      order = outTradeNo ? await orders.findForNotification(outTradeNo) : undefined;
      // The order's own algorithm, never the one the sender claims: a notification signed
      // otherwise is refused (verifyV2 compares its sign_type with this one), so switching
      // WECHAT_SIGN_TYPE neither breaks old orders nor lets anyone downgrade them.
      const signType = orderSignType(order, settings.signType);
      n = verifyNotificationFields(fields, { key: settings.mchKey, signType });
    } catch (err) {
      if (!(err instanceof NotificationError)) throw err;
      if (err.code === 'NOT_SUCCESS') {
        // A signed "payment failed" notice: nothing to credit, and nothing to retry.
        log.info({ code: err.code }, 'payment notification without success; acknowledged');
        return succeed('not_success');
      }
      log.warn(
        { code: err.code, field: err.field },
        'payment notification rejected before trusting any field',
      );
      return fail(
        err.code === 'SIGN_ERROR' ? 'bad_signature' : 'malformed',
        err.code === 'SIGN_ERROR' ? 'SIGN_ERROR' : 'FORMAT_ERROR',
      );
    }

    const result = await settleNotified(evidenceFromV2Notification(n), order);
    const answer = result.ok ? succeed(result.outcome) : fail(result.outcome, result.code);
    return order ? { ...answer, orderId: order.id } : answer;
  };
}
