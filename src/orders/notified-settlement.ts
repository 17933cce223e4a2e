import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { maskOpenid } from '../observability/logger.js';
import { decide, type PaymentEvidence } from './decide.js';
import type { Order, OrderStatus } from './order.js';
import { OrderStateConflictError, TransactionIdConflictError } from './order-store-errors.js';
import type { AnomalyStorePort, OrderStorePort } from './ports.js';

export interface NotifiedSettlementDeps {
  orders: OrderStorePort;
  anomalies: AnomalyStorePort;
  clock: Clock;
  log: Logger;
  settings: { appid: string; mchId: string };
}

/** What became of a verified payment notification, whichever API version carried it. */
export type NotifiedOutcome =
  | { ok: true; outcome: 'paid' | 'duplicate' }
  | { ok: false; outcome: 'wrong_merchant'; code: 'APPID_MCHID_MISMATCH' }
  | { ok: false; outcome: 'unknown_order'; code: 'ORDER_NOT_FOUND' }
  | { ok: false; outcome: 'amount_mismatch'; code: 'AMOUNT_MISMATCH' }
  | { ok: false; outcome: 'conflict'; code: 'TRANSACTION_CONFLICT' };

/**
 * What every verified payment notification goes through, v2 or v3: our appid and mch_id → a
 * known order → decide.ts (the amount equals the order's, not what the payer paid after
 * coupons; the currency is CNY; then the order's state) → one conditional update to PAID, or
 * evidence kept without a change. It resolves only after that has committed, so the caller
 * acknowledges only what is durable.
 *
 * `seen` is the order the notification names, as the caller read it (the v2 path reads it
 * before verifying, to learn the order's algorithm); `undefined` when there is none.
 */
export function createNotifiedSettlement(deps: NotifiedSettlementDeps) {
  const { orders, anomalies, clock, log, settings } = deps;

  async function pay(order: Order, evidence: PaymentEvidence, now: number): Promise<NotifiedOutcome> {
    let result: { changed: boolean; from: OrderStatus };
    try {
      // The decision, its evidence and its 'notification_received' event commit together,
      // grouped with other notifications' (group commit): success is only sent once durable.
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
      // A second transaction_id for one order, or one transaction_id for two orders: never credit
      // twice, but keep the payment's evidence (a second real payment is money received).
      await orders.keepEvidence(order.id, evidence, now);
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
      return { ok: false, outcome: 'conflict', code: 'TRANSACTION_CONFLICT' };
    }
    if (!result.changed) return { ok: true, outcome: 'duplicate' };
    if (result.from === 'CLOSED') {
      // Money received is never dropped, even after a local close, but a person should know.
      await anomalies.record(
        { kind: 'paid_after_close', ref: order.outTradeNo, orderId: order.id, data: {} },
        now,
      );
      log.error({ outTradeNo: order.outTradeNo }, 'payment arrived for a closed order; marked PAID');
    }
    log.info({ outTradeNo: order.outTradeNo, openid: maskOpenid(order.openid) }, 'order paid (notification)');
    return { ok: true, outcome: 'paid' };
  }

  return async function settleNotified(
    evidence: PaymentEvidence,
    seen: Order | undefined,
  ): Promise<NotifiedOutcome> {
    if (evidence.appid !== settings.appid || evidence.mchId !== settings.mchId) {
      log.warn({ outTradeNo: evidence.outTradeNo }, 'signed notification names another appid or mch_id');
      return { ok: false, outcome: 'wrong_merchant', code: 'APPID_MCHID_MISMATCH' };
    }

    const now = clock.now();
    if (!seen) {
      await anomalies.record(
        {
          kind: 'unknown_out_trade_no',
          ref: evidence.outTradeNo,
          data: { transactionId: evidence.transactionId, totalFee: evidence.totalFee },
        },
        now,
      );
      log.error({ outTradeNo: evidence.outTradeNo }, 'notification for an order we do not know');
      return { ok: false, outcome: 'unknown_order', code: 'ORDER_NOT_FOUND' };
    }

    const decision = decide(seen, evidence);
    switch (decision.kind) {
      case 'flag': {
        const isNew = await anomalies.record(
          {
            kind: decision.anomaly,
            ref: decision.ref,
            orderId: seen.id,
            data: { expected: seen.amount, totalFee: evidence.totalFee, feeType: evidence.currency },
          },
          now,
        );
        if (isNew) {
          await orders.transition(
            seen.id,
            'flag',
            { event: { type: 'anomaly', data: { kind: 'amount_mismatch' } }, evidence },
            now,
          );
          log.error(
            { outTradeNo: seen.outTradeNo, expected: seen.amount, got: evidence.totalFee },
            'amount mismatch; order flagged for review',
          );
        }
        return { ok: false, outcome: 'amount_mismatch', code: 'AMOUNT_MISMATCH' };
      }
      case 'credit':
      case 'duplicate':
      case 'hold':
      case 'conflict':
        // The store decides again under its row lock, with the same rules (decide.ts).
        return pay(seen, evidence, now);
      default: {
        const unreachable: never = decision;
        throw new Error(`unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  };
}

export type SettleNotified = ReturnType<typeof createNotifiedSettlement>;
