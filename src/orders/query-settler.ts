import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { maskOpenid } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { WechatRejectedError } from '../wechat/errors.js';
import type { Order, PaidSource } from './order.js';
import { OrderStateConflictError, TransactionIdConflictError } from './order-store-errors.js';
import type { AnomalyStorePort, GatewayTransaction, OrderStorePort, PaymentGateway } from './ports.js';
import { withUpstreamRetry } from './upstream-retry.js';

export interface SettlerDeps {
  orders: OrderStorePort;
  anomalies: AnomalyStorePort;
  pay: Pick<PaymentGateway, 'query'>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Asks WeChat for an order's state and records what it says. This is the one place, besides
 * the notification, where an order can become PAID, and it checks the amount just as strictly.
 * Returns the order as the database holds it afterwards.
 */
export function createQuerySettler(deps: SettlerDeps) {
  const { orders, clock, log } = deps;

  async function apply(order: Order, result: GatewayTransaction, source: PaidSource): Promise<Order> {
    const now = clock.now();
    await orders.addEvent(order.id, 'queried', { trade_state: result.tradeState, source }, now);
    await orders.touchQueried(order.id, now);
    switch (result.tradeState) {
      case 'SUCCESS':
      case 'REFUND': {
        if (result.amount !== order.amount || (result.currency ?? 'CNY') !== 'CNY' || !result.transactionId) {
          await deps.anomalies.record(
            {
              kind: 'query_amount_mismatch',
              ref: order.outTradeNo,
              orderId: order.id,
              data: { expected: order.amount, got: result.amount, feeType: result.currency },
            },
            now,
          );
          log.error(
            { outTradeNo: order.outTradeNo },
            'order query reports a different amount; flagged for review',
          );
          return (
            (await orders.transition(
              order.id,
              {
                from: ['PENDING', 'CLOSED'],
                to: 'REVIEW',
                event: { type: 'anomaly', data: { kind: 'amount_mismatch' } },
              },
              now,
            )) ?? order
          );
        }
        const paidAt = result.paidAt ?? now;
        let outcome: { changed: boolean; order: Order };
        try {
          outcome = await orders.markPaid(
            order.id,
            { transactionId: result.transactionId, paidAt, source },
            now,
          );
        } catch (err) {
          if (!(err instanceof OrderStateConflictError || err instanceof TransactionIdConflictError))
            throw err;
          await deps.anomalies.record(
            { kind: 'transaction_conflict', ref: result.transactionId, orderId: order.id, data: { source } },
            now,
          );
          log.error(
            { outTradeNo: order.outTradeNo },
            'order query reports a conflicting payment; not credited',
          );
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
      case 'CLOSED':
      case 'REVOKED':
      case 'PAYERROR': {
        const closed = await orders.transition(
          order.id,
          {
            from: ['PENDING'],
            to: 'CLOSED',
            event: { type: 'state_changed', data: { trade_state: result.tradeState } },
          },
          now,
        );
        return closed ?? (await orders.findById(order.id)) ?? order;
      }
      case 'NOTPAY':
      case 'USERPAYING':
      case 'ACCEPT':
        return (await orders.findById(order.id)) ?? order;
      default: {
        const unreachable: never = result.tradeState;
        throw new Error(`unhandled trade_state ${String(unreachable)}`);
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
