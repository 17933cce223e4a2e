import type { Logger } from 'pino';
import { beijingDate, dayRange } from '../admin/time-range.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { AppError } from '../errors.js';
import type { Order, OrderStatus, PaidSource } from '../orders/order.js';
import type { OrderStorePort } from '../orders/ports.js';
import type { RefundService } from '../orders/refund-service.js';
import type { Outbox } from '../webhooks/outbox.js';
import { WechatError, WechatUnknownOutcomeError } from '../wechat/errors.js';
import type { BillSource } from './bill-source.js';
import { readBooks } from './books.js';
import { diffDay, type Finding } from './diff.js';
import { countsOf, type ReconciliationReport, type ReportFinding, statusOf, totalOf } from './report.js';
import { saveReport } from './report-store.js';
import { parseTradeBill, type TradeBill, TradeBillFormatError } from './trade-bill.js';

export interface ReconcileDayDeps {
  db: Db;
  bills: BillSource;
  orders: Pick<OrderStorePort, 'findById'>;
  /** The order query settler (src/orders/query-settler.ts): the normal way a lost payment lands. */
  settle: (order: Order, source: PaidSource) => Promise<Order>;
  refunds: Pick<RefundService, 'reconcile' | 'findByOutRefundNo'>;
  clock: Clock;
  log: Logger;
  /** Writes a `reconciliation.mismatch` webhook event per new finding, with the report. */
  outbox?: Outbox;
}

/** Where a run is, for a progress bar: `done` of `total` in this phase. */
export interface ReconcileProgress {
  phase: 'download' | 'compare' | 'settle' | 'save';
  done: number;
  total: number;
}

const PAID_HERE: readonly OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'];
const NO_BILL: TradeBill = {
  payments: [],
  refunds: [],
  summary: { rows: 0, settlementTotal: 0, refundTotal: 0 },
  counted: { rows: 0, settlementTotal: 0, refundTotal: 0 },
};

/**
 * Reconciles one day: downloads WeChat's trade bill, compares it with our orders and refunds
 * (diff.ts), settles what the service can settle by itself through the normal query paths (a
 * payment or a refund whose notification was lost), and saves the report with an anomaly per
 * finding (report-store.ts). Running it again for the same day replaces the report.
 */
export function createDayReconciliation(deps: ReconcileDayDeps) {
  const { db, clock, log } = deps;

  /** Asks WeChat about one order or refund the bill says we are behind on, and says what it did. */
  async function catchUp(f: Finding): Promise<ReportFinding> {
    try {
      if (f.kind === 'bill_payment_not_recorded' && f.orderId) {
        const order = await deps.orders.findById(f.orderId);
        if (!order) return { ...f, needsPerson: true };
        const after = await deps.settle(order, 'query');
        const agrees = PAID_HERE.includes(after.status) && after.transactionId === f.bill?.transactionId;
        return { ...f, action: 'settled_by_order_query', after: after.status, needsPerson: !agrees };
      }
      if (f.kind === 'bill_refund_not_recorded') {
        const refund = await deps.refunds.findByOutRefundNo(f.ref);
        if (!refund) return { ...f, needsPerson: true };
        const after = await deps.refunds.reconcile(refund);
        return {
          ...f,
          action: 'settled_by_refund_query',
          after: after.status,
          needsPerson: after.status !== 'SUCCESS',
        };
      }
    } catch (err) {
      log.warn({ err, kind: f.kind, ref: f.ref }, 'reconciliation could not settle a finding; a person must');
      return { ...f, after: `not settled: ${(err as Error).message}`, needsPerson: true };
    }
    return { ...f, needsPerson: true };
  }

  async function download(date: string): Promise<TradeBill> {
    let text: string | null;
    try {
      text = await deps.bills.tradeBill(date);
    } catch (err) {
      const code = err instanceof WechatError ? err.code : '';
      if (code === 'BILL_CREATING' || code === 'STATEMENT_CREATING') {
        throw new AppError(
          'BILL_NOT_READY',
          `WeChat has not generated the bill of ${date} yet; bills are ready from about 10:00 (Beijing) the next day.`,
          { cause: err, retryAfter: 600 },
        );
      }
      if (err instanceof WechatUnknownOutcomeError && err.reason === 'malformed')
        throw new AppError('BILL_MALFORMED', `The bill of ${date} is not usable: ${err.message}.`, {
          cause: err,
        });
      throw err;
    }
    if (text === null) return NO_BILL;
    try {
      return parseTradeBill(text);
    } catch (err) {
      if (!(err instanceof TradeBillFormatError)) throw err;
      throw new AppError('BILL_MALFORMED', `The bill of ${date} does not parse: ${err.message}.`, {
        cause: err,
      });
    }
  }

  /**
   * @param date the bill's day, YYYY-MM-DD (Beijing time); it must have ended.
   * @throws AppError VALIDATION_ERROR for a date that is not a real, finished day, BILL_NOT_READY
   *   before WeChat has generated the bill, BILL_MALFORMED for a bill that does not parse or match
   *   its hash; WeChat's own errors when it cannot be reached.
   */
  return async function reconcileDay(
    date: string,
    onProgress: (p: ReconcileProgress) => void = () => {},
  ): Promise<ReconciliationReport> {
    const day = dayRange(date);
    const startedAt = clock.now();
    if (day.end > startedAt) {
      throw new AppError(
        'VALIDATION_ERROR',
        `date ${date} has not ended yet (today is ${beijingDate(startedAt)} in Beijing): WeChat bills a day after it ends, from about 10:00 the next morning.`,
      );
    }
    onProgress({ phase: 'download', done: 0, total: 1 });
    const bill = await download(date);
    onProgress({ phase: 'download', done: 1, total: 1 });

    onProgress({ phase: 'compare', done: 0, total: 1 });
    const books = await readBooks(db, {
      outTradeNos: bill.payments.map((p) => p.outTradeNo),
      outRefundNos: bill.refunds.map((r) => r.outRefundNo),
      day,
    });
    const found = diffDay({ bill, orders: books.orders, refunds: books.refunds, day });
    onProgress({ phase: 'compare', done: 1, total: 1 });

    const findings: ReportFinding[] = [];
    for (const f of found) {
      onProgress({ phase: 'settle', done: findings.length, total: found.length });
      findings.push(await catchUp(f));
    }
    onProgress({ phase: 'settle', done: findings.length, total: found.length });

    const inDay = (t: number | null) => t !== null && t >= day.start && t < day.end;
    const report: ReconciliationReport = {
      billDate: date,
      apiVersion: deps.bills.version,
      status: statusOf(findings),
      bill: {
        payments: totalOf(bill.payments.map((p) => p.amount)),
        refunds: totalOf(bill.refunds.filter((r) => r.status === 'SUCCESS').map((r) => r.amount)),
        rows: bill.counted.rows,
      },
      ours: {
        payments: totalOf(
          books.orders.filter((o) => PAID_HERE.includes(o.status) && inDay(o.paidAt)).map((o) => o.amount),
        ),
        refunds: totalOf(
          books.refunds.filter((r) => r.status === 'SUCCESS' && inDay(r.settledAt)).map((r) => r.amount),
        ),
      },
      counts: countsOf(findings),
      findings,
      startedAt,
      finishedAt: clock.now(),
    };
    onProgress({ phase: 'save', done: 0, total: 1 });
    const saved = await saveReport(db, report, clock.now(), deps.outbox);
    onProgress({ phase: 'save', done: 1, total: 1 });
    log[saved.status === 'needs_attention' ? 'warn' : 'info'](
      { billDate: date, status: saved.status, counts: saved.counts },
      'daily reconciliation report saved',
    );
    return saved;
  };
}

export type ReconcileDay = ReturnType<typeof createDayReconciliation>;
