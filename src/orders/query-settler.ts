import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { maskOpenid } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { WechatRejectedError } from '../wechat/errors.js';
import { decide, type PaymentEvidence } from './decide.js';
import type { Order, PaidSource } from './order.js';
import { OrderStateConflictError, TransactionIdConflictError } from './order-store-errors.js';
import type { AnomalyStorePort, GatewayTransaction, OrderStorePort, PaymentGateway } from './ports.js';
import { withUpstreamRetry } from './upstream-retry.js';

export interface SettlerDeps {
  orders: OrderStorePort;
  anomalies: AnomalyStorePort;
  /** The payment API (v2 or v3); its query answers carry the payment as evidence. */
  pay: Pick<PaymentGateway, 'query'>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Asks WeChat for an order's state and records what it says. A paid answer is evidence like a
 * notification's, judged by the same decide() and recorded by the same store.markPaid.
 * Returns the order as the database holds it afterwards.
 */
export function createQuerySettler(deps: SettlerDeps) {
  const { orders, clock, log } = deps;

  /** A paid order at WeChat: the same rules as the notification (decide.ts). */
  async function settlePaid(order: Order, evidence: PaymentEvidence, source: PaidSource, now: number) {
    const decision = decide(order, evidence);
    switch (decision.kind) {
      case 'flag': {
        await deps.anomalies.record(
          {
            kind: decision.anomaly,
            ref: decision.ref,
            orderId: order.id,
            data: { expected: order.amount, got: evidence.totalFee, feeType: evidence.currency },
          },
          now,
        );
        log.error(
          { outTradeNo: order.outTradeNo },
          'order query reports a different amount; flagged for review',
        );
        const flagged = await orders.transition(
          order.id,
          'flag',
          {
            event: { type: 'anomaly', data: { kind: 'amount_mismatch' } },
            ...(evidence.transactionId && { evidence }),
          },
          now,
        );
        return flagged ?? order;
      }
      case 'credit':
      case 'duplicate':
      case 'hold':
      case 'conflict':
        // The store decides again under its row lock, with the same rules.
        return record(order, evidence, source, now);
      default: {
        const unreachable: never = decision;
        throw new Error(`unhandled decision ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async function record(order: Order, evidence: PaymentEvidence, source: PaidSource, now: number) {
    const paid = { transactionId: evidence.transactionId, paidAt: evidence.paidAt ?? now, source, evidence };
    let outcome: { changed: boolean; order: Order };
    try {
      outcome = await orders.markPaid(order.id, paid, now);
    } catch (err) {
      if (!(err instanceof OrderStateConflictError || err instanceof TransactionIdConflictError)) throw err;
      await orders.keepEvidence(order.id, evidence, now);
      await deps.anomalies.record(
        { kind: 'transaction_conflict', ref: evidence.transactionId, orderId: order.id, data: { source } },
        now,
      );
      log.error({ outTradeNo: order.outTradeNo }, 'order query reports a conflicting payment; not credited');
      return (await orders.findById(order.id)) ?? order;
    }
    if (outcome.changed) {
      log.info(
        { outTradeNo: order.outTradeNo, openid: maskOpenid(order.openid), source },
        'order paid (by query)',
      );
    }
    return outcome.order;
  }

  async function apply(order: Order, result: GatewayTransaction, source: PaidSource): Promise<Order> {
    const now = clock.now();
    await orders.addEvent(order.id, 'queried', { trade_state: result.tradeState, source }, now);
    await orders.touchQueried(order.id, now);
    switch (result.tradeState) {
      case 'SUCCESS':
      case 'REFUND':
        return settlePaid(order, result.evidence, source, now);
      case 'CLOSED':
      case 'REVOKED':
      case 'PAYERROR': {
        const closed = await orders.transition(
          order.id,
          'close',
          { event: { type: 'state_changed', data: { trade_state: result.tradeState } } },
          now,
        );
        return closed ?? (await orders.findById(order.id)) ?? order;
      }
      case 'NOTPAY':
      case 'USERPAYING':
      case 'ACCEPT':
        return (await orders.findById(order.id)) ?? order;
      default: {
        const unreachable: never = result;
        throw new Error(`unhandled trade_state ${JSON.stringify(unreachable)}`);
      }
    }
  }

  return async function settle(order: Order, source: PaidSource): Promise<Order> {
    let result: GatewayTransaction;
    try {
      result = await withUpstreamRetry('orderquery', () => deps.pay.query(order.outTradeNo), deps);
    } catch (err) {
      if (err instanceof WechatRejectedError && err.failure.errCode === 'ORDERNOTEXIST') {
        // WeChat never created it (unifiedorder failed): nothing to settle yet.
        await orders.addEvent(order.id, 'queried', { trade_state: 'ORDERNOTEXIST', source }, clock.now());
        await orders.touchQueried(order.id, clock.now());
        return (await orders.findById(order.id)) ?? order;
      }
      throw err;
    }
    return apply(order, result, source);
  };
}
