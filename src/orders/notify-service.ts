import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { maskOpenid } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  NotificationError,
  notifyReply,
  parseNotificationXml,
  verifyPaymentNotification,
} from '../wechat/v2/notify.js';
import type { V2SignType } from '../wechat/v2/sign.js';
import { decide, type PaymentEvidence } from './decide.js';
import type { Order, OrderStatus } from './order.js';
import { OrderStateConflictError, TransactionIdConflictError } from './order-store-errors.js';
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
}

const SUCCESS_REPLY = notifyReply(true);

/**
 * Handles WeChat's v2 payment notification, safe by default:
 * strict parse → the order it names (only to learn the algorithm the order was placed with) →
 * signature over every received field with that algorithm → our appid and mch_id → a known
 * order → decide.ts (total_fee equals the order amount, not cash_fee: coupons lower it; fee_type
 * is CNY; then the order's state) → one conditional update to PAID, or evidence kept without a
 * change. The reply is built only after that has committed.
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

  /** The order the notification names, read before trusting it only to learn its algorithm. */
  async function orderNamedIn(raw: Buffer): Promise<Order | undefined> {
    const outTradeNo = parseNotificationXml(raw).out_trade_no;
    return outTradeNo ? orders.findForNotification(outTradeNo) : undefined;
  }

  return async function handle(raw: Buffer): Promise<NotifyOutcome> {
    let n: ReturnType<typeof verifyPaymentNotification>;
    let order: Order | undefined;
    try {
      order = await orderNamedIn(raw);
      // The order's own algorithm, never the one the sender claims: a notification signed
      // otherwise is refused (verifyV2 compares its sign_type with this one), so switching
      // WECHAT_SIGN_TYPE neither breaks old orders nor lets anyone downgrade them.
      const signType = orderSignType(order, settings.signType);
      n = verifyPaymentNotification(raw, { key: settings.mchKey, signType });
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

    const evidence = evidenceFromV2Notification(n);
    const decision = decide(order, evidence);
    switch (decision.kind) {
      case 'flag': {
        const isNew = await anomalies.record(
          {
            kind: decision.anomaly,
            ref: decision.ref,
            orderId: order.id,
            data: { expected: order.amount, totalFee: n.totalFee, feeType: n.feeType },
          },
          now,
        );
        if (isNew) {
          await orders.transition(
            order.id,
            'flag',
            { event: { type: 'anomaly', data: { kind: 'amount_mismatch' } }, evidence },
            now,
          );
          log.error(
            { outTradeNo: order.outTradeNo, expected: order.amount, got: n.totalFee },
            'amount mismatch; order flagged for review',
          );
        }
        return fail('amount_mismatch', 'AMOUNT_MISMATCH');
      }
      case 'credit':
      case 'duplicate':
      case 'hold':
      case 'conflict':
        // The store decides again under its row lock, with the same rules (decide.ts).
        return pay(order, evidence, now);
      default: {
        const unreachable: never = decision;
        throw new Error(`unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  };

  async function pay(order: Order, evidence: PaymentEvidence, now: number): Promise<NotifyOutcome> {
    let result: { changed: boolean; from: OrderStatus };
    try {
      // The decision, its evidence and its 'notification_received' event commit together,
      // grouped with other notifications' (group commit): SUCCESS is only sent once durable.
      result = await orders.markPaidFromNotification(
        order,
        {
          transactionId: evidence.transactionId,
          paidAt: evidence.paidAt ?? now,
          cashFee: evidence.cashFee ?? 0,
          evidence,
        },
        now,
      );
    } catch (err) {
      if (!(err instanceof OrderStateConflictError || err instanceof TransactionIdConflictError)) throw err;
      // A second transaction_id for one order, or one transaction_id for two orders: never credit twice.
      await anomalies.record(
        {
          kind: 'transaction_conflict',
          ref: evidence.transactionId,
          orderId: order.id,
          data: { outTradeNo: evidence.outTradeNo },
        },
        now,
      );
      log.error(
        { outTradeNo: evidence.outTradeNo, code: err.name },
        'conflicting payment for an order; not credited',
      );
      return fail('conflict', 'TRANSACTION_CONFLICT');
    }
    if (!result.changed) return succeed('duplicate');
    if (result.from === 'CLOSED') {
      // Money received is never dropped (checklist B11), but a person should know.
      await anomalies.record(
        { kind: 'paid_after_close', ref: order.outTradeNo, orderId: order.id, data: {} },
        now,
      );
      log.error({ outTradeNo: order.outTradeNo }, 'payment arrived for a closed order; marked PAID');
    }
    log.info({ outTradeNo: order.outTradeNo, openid: maskOpenid(order.openid) }, 'order paid (notification)');
    return succeed('paid');
  }
}
