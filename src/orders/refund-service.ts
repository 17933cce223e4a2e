import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { timeOrderedUuid } from '../db/time-ordered-id.js';
import { AppError } from '../errors.js';
import type { IdempotencyClaim } from '../idempotency/idempotency-store.js';
import type { Metrics } from '../observability/metrics.js';
import { WechatRejectedError } from '../wechat/errors.js';
import { MAX_REFUNDS_PER_ORDER, type Order } from './order.js';
import type { AnomalyStorePort } from './ports.js';
import type { Refund } from './refund.js';
import type { RefundGateway, RefundReport } from './refund-gateway.js';
import type { RefundStore, ReserveRefusal } from './refund-store.js';
import { withUpstreamRetry } from './upstream-retry.js';

/**
 * WeChat refusals that are not final for a refund (the error codes of 《申请退款》): the merchant's
 * balance is short (NOTENOUGH), too many requests, or "try again". The refund stays PROCESSING
 * with `last_error` and is sent again, with the SAME out_refund_no, by the refund reconciler.
 */
export const REFUND_CODES_TO_RETRY: ReadonlySet<string> = new Set([
  'NOTENOUGH',
  'FREQUENCY_LIMITED',
  'INVALID_REQ_TOO_MUCH',
  // API v3's name for "too many invalid requests, blocked for a while".
  'REQUEST_BLOCKED',
  'SYSTEMERROR',
  'BIZERR_NEED_RETRY',
  'ORDER_NOT_READY',
]);

/** v3 spells `NOTENOUGH` as `NOT_ENOUGH` (and v2 `BIZERR_NEED_RETRY` is v3 `BIZ_ERR_NEED_RETRY`): compare without underscores. */
const squashed = (code: string) => code.replace(/_/g, '');
const RETRY_SQUASHED = new Set([...REFUND_CODES_TO_RETRY].map(squashed));
export const isRefundCodeToRetry = (code: string): boolean => RETRY_SQUASHED.has(squashed(code));

export interface RefundServiceDeps {
  refunds: RefundStore;
  orders: { findById(id: string): Promise<Order | undefined> };
  anomalies: AnomalyStorePort;
  gateway: RefundGateway;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  newOutRefundNo: () => string;
  sleep?: (ms: number) => Promise<void>;
}

export type RefundService = ReturnType<typeof createRefundService>;

function refused(orderId: string, amount: number, refusal: ReserveRefusal): AppError {
  switch (refusal.kind) {
    case 'order_not_found':
      return new AppError('ORDER_NOT_FOUND', `Order ${orderId} does not exist.`);
    case 'not_refundable':
      return new AppError(
        'ORDER_NOT_REFUNDABLE',
        `Order ${orderId} is ${refusal.status}: only a PAID or PARTIALLY_REFUNDED order can be refunded.`,
      );
    case 'limit_reached':
      return new AppError(
        'REFUND_LIMIT_REACHED',
        `Order ${orderId} already has ${refusal.count} refunds; WeChat takes at most ${MAX_REFUNDS_PER_ORDER}.`,
      );
    case 'exceeds_paid':
      return new AppError(
        'REFUND_EXCEEDS_PAID',
        `A refund of ${amount} fen is more than the ${refusal.left} fen left to refund on order ${orderId}.`,
      );
    default: {
      const unreachable: never = refusal;
      throw new Error(`unhandled refusal ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Refunds, end to end: saved and reserved first (out_refund_no fixed), then sent to WeChat;
 * settled by WeChat's notification or a query, exactly once. A refund that fails for good leaves
 * the order as it was and raises an anomaly.
 */
export function createRefundService(deps: RefundServiceDeps) {
  const { refunds, clock, log } = deps;

  async function anomaly(
    kind: Parameters<AnomalyStorePort['record']>[0]['kind'],
    refund: Refund,
    data: object,
  ) {
    await deps.anomalies.record(
      { kind, ref: refund.outRefundNo, orderId: refund.orderId, data },
      clock.now(),
    );
  }

  /** Sends the refund to WeChat (again), and keeps what came of it. Never throws for WeChat's sake. */
  async function submit(refund: Refund, order: Order): Promise<Refund> {
    const request = {
      outTradeNo: order.outTradeNo,
      outRefundNo: refund.outRefundNo,
      totalFee: order.amount,
      refundFee: refund.amount,
      reason: refund.reason,
    };
    try {
      const accepted = await withUpstreamRetry(
        'refund',
        async () => {
          await refunds.countAttempt(refund.id, clock.now());
          return deps.gateway.submit(request);
        },
        deps,
      );
      return (
        (await refunds.markAccepted(refund.id, accepted.refundId, clock.now())) ?? (await reread(refund))
      );
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const error = typeof code === 'string' ? code : 'ERROR';
      if (err instanceof WechatRejectedError && !isRefundCodeToRetry(error)) {
        // WeChat's final word (PARAM_ERROR, TRADE_OVERDUE, USER_ACCOUNT_ABNORMAL…): nothing went
        // back, the amount is free again, and a person is told.
        const { refund: closed } = await refunds.settle(refund.id, { status: 'CLOSED', error }, clock.now());
        await anomaly('refund_rejected', refund, { code: error, message: err.failure.message });
        log.error({ outRefundNo: refund.outRefundNo, code: error }, 'WeChat refused the refund');
        return closed;
      }
      log.warn(
        { outRefundNo: refund.outRefundNo, code: error },
        'refund not settled yet; it will be retried',
      );
      return (await refunds.recordError(refund.id, error, clock.now())) ?? (await reread(refund));
    }
  }

  async function reread(refund: Refund): Promise<Refund> {
    return (await refunds.findById(refund.id)) ?? refund;
  }

  /**
   * Applies what WeChat reports about a refund (its notification or a query). A report that does
   * not match the refund we saved (another amount or order) changes nothing, is an anomaly and
   * comes back with `mismatch: true`.
   */
  async function applyReport(
    refund: Refund,
    report: RefundReport,
    source: 'notification' | 'query',
  ): Promise<{ refund: Refund; changed: boolean; mismatch: boolean }> {
    const order = await deps.orders.findById(refund.orderId);
    const otherOrder = report.outTradeNo !== undefined && order && report.outTradeNo !== order.outTradeNo;
    if (report.refundFee !== refund.amount || otherOrder) {
      await anomaly('refund_mismatch', refund, { source, expected: refund.amount, reported: report });
      log.error({ outRefundNo: refund.outRefundNo, source }, 'refund report does not match the saved refund');
      return { refund, changed: false, mismatch: true };
    }
    if (report.status === 'PROCESSING') {
      const accepted =
        refund.refundId === null
          ? await refunds.markAccepted(refund.id, report.refundId, clock.now())
          : undefined;
      return { refund: accepted ?? refund, changed: false, mismatch: false };
    }
    const settled = await refunds.settle(
      refund.id,
      { status: report.status, refundId: report.refundId },
      clock.now(),
    );
    if (settled.changed) {
      if (report.status === 'CHANGE')
        await anomaly('refund_abnormal', refund, { source, refundId: report.refundId });
      if (report.status === 'CLOSED')
        await anomaly('refund_closed', refund, { source, refundId: report.refundId });
      log.info({ outRefundNo: refund.outRefundNo, status: report.status, source }, 'refund settled');
    }
    return { refund: settled.refund, changed: settled.changed, mismatch: false };
  }

  return {
    /**
     * Saves and reserves a refund of `amount` fen, then asks WeChat. Refusals (unpaid, too much,
     * too many) are AppErrors and change nothing. Once saved, the refund is returned whatever
     * WeChat said: PROCESSING (accepted, or to be retried: see `lastError`) or CLOSED (refused).
     */
    async request(input: {
      orderId: string;
      amount: number;
      reason: string;
      requestedBy: string;
      /** The Idempotency-Key claim the refund answers, recorded on the key in the refund's commit. */
      claim?: IdempotencyClaim;
    }) {
      if (!Number.isSafeInteger(input.amount) || input.amount < 1) {
        throw new AppError('VALIDATION_ERROR', 'amount must be a whole number of fen, 1 or more.');
      }
      const now = clock.now();
      const reserved = await refunds.reserve(
        {
          id: timeOrderedUuid(now),
          orderId: input.orderId,
          outRefundNo: deps.newOutRefundNo(),
          amount: input.amount,
          reason: input.reason,
          requestedBy: input.requestedBy,
        },
        now,
        input.claim,
      );
      if (!reserved.ok) throw refused(input.orderId, input.amount, reserved.refusal);
      const refund = await submit(reserved.refund, reserved.order);
      return { refund, order: (await deps.orders.findById(refund.orderId)) ?? reserved.order };
    },

    /** The refund as it stands, sending it again first when WeChat never accepted it (crash recovery). */
    async resume(refundId: string) {
      const refund = await refunds.findById(refundId);
      if (!refund) throw new AppError('ORDER_NOT_FOUND', 'The refund this key started no longer exists.');
      const order = await deps.orders.findById(refund.orderId);
      if (!order) throw new AppError('ORDER_NOT_FOUND', `Order ${refund.orderId} does not exist.`);
      const current =
        refund.status === 'PROCESSING' && refund.refundId === null ? await submit(refund, order) : refund;
      return { refund: current, order: (await deps.orders.findById(order.id)) ?? order };
    },

    /**
     * One PROCESSING refund, as the reconciler sees it: never accepted → sent again with the same
     * out_refund_no; accepted → asked about (《查询退款》) and settled by the answer.
     */
    async reconcile(refund: Refund): Promise<Refund> {
      if (refund.status !== 'PROCESSING') return refund;
      const order = await deps.orders.findById(refund.orderId);
      if (!order) throw new Error(`refund ${refund.id} names a missing order`);
      if (refund.refundId === null) return submit(refund, order);
      const report = await withUpstreamRetry(
        'refundquery',
        () => deps.gateway.query(refund.outRefundNo),
        deps,
      );
      if (!report) {
        log.warn(
          { outRefundNo: refund.outRefundNo },
          'WeChat does not know an accepted refund; will ask again',
        );
        return refund;
      }
      return (await applyReport(refund, report, 'query')).refund;
    },

    applyReport,
    findByOutRefundNo: (outRefundNo: string) => refunds.findByOutRefundNo(outRefundNo),
    listForOrder: (orderId: string) => refunds.listForOrder(orderId),
  };
}
