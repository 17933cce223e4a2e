import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { maskOpenid } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { parseWechatTime } from '../wechat/v2/fields.js';
import { NotificationError, notifyReply, verifyPaymentNotification } from '../wechat/v2/notify.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import { OrderStateConflictError, TransactionIdConflictError } from './order-store-errors.js';
import type { AnomalyStorePort, OrderStorePort } from './ports.js';

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
}

const SUCCESS_REPLY = notifyReply(true);

/**
 * Handles WeChat's v2 payment notification, safe by default:
 * strict parse → signature over every received field → our appid and mch_id → a known order →
 * total_fee equals the order amount (not cash_fee: coupons lower it) and fee_type is CNY →
 * one conditional update to PAID. The reply is built only after that update has committed.
 *
 * A duplicate gets SUCCESS and changes nothing. A forgery gets FAIL and writes nothing.
 */
export function createNotifyService(deps: NotifyServiceDeps) {
  const { orders, anomalies, clock, log, metrics, settings } = deps;

  function fail(outcome: string, message: string): NotifyOutcome {
    metrics.notification(outcome);
    return { ok: false, reply: notifyReply(false, message), outcome };
  }

  function succeed(outcome: string): NotifyOutcome {
    metrics.notification(outcome);
    return { ok: true, reply: SUCCESS_REPLY, outcome };
  }

  return async function handle(raw: Buffer): Promise<NotifyOutcome> {
    let n: ReturnType<typeof verifyPaymentNotification>;
    try {
      n = verifyPaymentNotification(raw, { key: settings.mchKey, signType: settings.signType });
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

    if (n.appid !== settings.appid || n.mchId !== settings.mchId) {
      log.warn({ outTradeNo: n.outTradeNo }, 'signed notification names another appid or mch_id');
      return fail('wrong_merchant', 'APPID_MCHID_MISMATCH');
    }

    const now = clock.now();
    const order = await orders.findForNotification(n.outTradeNo);
    if (!order) {
      await anomalies.record(
        {
          kind: 'unknown_out_trade_no',
          ref: n.outTradeNo,
          data: { transactionId: n.transactionId, totalFee: n.totalFee },
        },
        now,
      );
      log.error({ outTradeNo: n.outTradeNo }, 'notification for an order we do not know');
      return fail('unknown_order', 'ORDER_NOT_FOUND');
    }

    if (n.totalFee !== order.amount || n.feeType !== 'CNY') {
      const isNew = await anomalies.record(
        {
          kind: 'notify_amount_mismatch',
          ref: n.transactionId,
          orderId: order.id,
          data: { expected: order.amount, totalFee: n.totalFee, feeType: n.feeType },
        },
        now,
      );
      if (isNew) {
        await orders.transition(
          order.id,
          {
            from: ['PENDING', 'CLOSED'],
            to: 'REVIEW',
            event: { type: 'anomaly', data: { kind: 'amount_mismatch' } },
          },
          now,
        );
        log.error(
          { outTradeNo: order.outTradeNo, expected: order.amount, got: n.totalFee },
          'amount mismatch; order flagged for review',
        );
      }
      return fail('amount_mismatch', 'AMOUNT_MISMATCH');
    }

    if (order.status === 'REFUNDED' || order.status === 'REVIEW') {
      // State only moves forward (checklist D9); a person owns REVIEW orders.
      await orders.addEvent(
        order.id,
        'notification_received',
        { verified: true, applied: false, status: order.status },
        now,
      );
      return succeed('duplicate');
    }

    const paidAt = parseWechatTime(n.timeEnd) ?? now;
    let changed: boolean;
    let wasClosed: boolean;
    try {
      // The change and its 'notification_received' event commit together, grouped with other
      // notifications' (group commit): SUCCESS is only ever sent for a durable change.
      const result = await orders.markPaidFromNotification(
        order,
        { transactionId: n.transactionId, paidAt, cashFee: n.cashFee },
        now,
      );
      changed = result.changed;
      wasClosed = result.from === 'CLOSED';
    } catch (err) {
      if (!(err instanceof OrderStateConflictError || err instanceof TransactionIdConflictError)) throw err;
      // A second transaction_id for one order, or one transaction_id for two orders: never credit twice.
      await anomalies.record(
        {
          kind: 'transaction_conflict',
          ref: n.transactionId,
          orderId: order.id,
          data: { outTradeNo: n.outTradeNo },
        },
        now,
      );
      log.error(
        { outTradeNo: n.outTradeNo, code: err.name },
        'conflicting payment for an order; not credited',
      );
      return fail('conflict', 'TRANSACTION_CONFLICT');
    }
    if (!changed) return succeed('duplicate');
    if (wasClosed) {
      // Money received is never dropped (checklist B11), but a person should know.
      await anomalies.record(
        { kind: 'paid_after_close', ref: order.outTradeNo, orderId: order.id, data: {} },
        now,
      );
      log.error({ outTradeNo: order.outTradeNo }, 'payment arrived for a closed order; marked PAID');
    }
    log.info({ outTradeNo: order.outTradeNo, openid: maskOpenid(order.openid) }, 'order paid (notification)');
    return succeed('paid');
  };
}
