import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { orderStoreFixture } from '../../test/orders/order-store-fixture.js';
import { AppError } from '../errors.js';
import type { Order } from '../orders/order.js';
import { WechatRejectedError, WechatRetryableError, WechatUnknownOutcomeError } from '../wechat/errors.js';
import type { BillSource } from './bill-source.js';
import { createDayReconciliation } from './reconcile-day.js';
import { findReport } from './report-store.js';
import { fenToYuan } from './trade-bill.js';

/**
 * The run around the pure diff, with the bill source and the query settler played by the test:
 * what it does when the bill is not there, not ready, damaged, and when a catch-up query fails.
 * (test/reconcile/reconciliation.test.ts runs it against the simulator's real bills.)
 */
const log = pino({ level: 'silent' });
const AFTER_THE_DAY = Date.UTC(2024, 0, 2, 2); // 2024-01-02 10:00 Beijing
const HEADER = '交易时间,微信订单号,商户订单号,交易状态,应结订单金额';
const SUMMARY = '总交易单数,应结订单总金额,退款总金额';

function billOf(rows: [string, string, number][]): string {
  const total = rows.reduce((s, [, , fen]) => s + fen, 0);
  return [
    HEADER,
    ...rows.map(
      ([txid, outTradeNo, fen]) =>
        `\`2024-01-01 12:00:00,\`${txid},\`${outTradeNo},\`SUCCESS,\`${fenToYuan(fen)}`,
    ),
    SUMMARY,
    `\`${rows.length},\`${fenToYuan(total)},\`0.00`,
    '',
  ].join('\r\n');
}

const source = (answer: () => Promise<string | null>): BillSource => ({ version: 'v2', tradeBill: answer });

const [sqlite] = testDatabases();
describe('reconcileDay', () => {
  const s = orderStoreFixture(sqlite!, 'rcd');

  function run(bills: BillSource, settle: (order: Order) => Promise<Order>) {
    return createDayReconciliation({
      db: s.handle.db,
      bills,
      orders: s.orders,
      settle,
      refunds: {
        reconcile: async (r) => r,
        findByOutRefundNo: async () => undefined,
      },
      clock: { now: () => AFTER_THE_DAY },
      log,
    });
  }
  const neverSettles = async (): Promise<Order> => expect.unreachable('nothing to settle');

  it('a day WeChat has no bill for is an empty bill: clean when we hold nothing paid, saved', async () => {
    const report = await run(
      source(async () => null),
      neverSettles,
    )('2023-12-30');
    expect(report).toMatchObject({ status: 'clean', bill: { rows: 0 }, findings: [] });
    expect((await findReport(s.handle.db, '2023-12-30'))?.status).toBe('clean');
  });

  it('a catch-up query that fails leaves the finding to a person, with the error, and the run finishes', async () => {
    const order = await s.newOrder();
    const bill = billOf([['4200000001', order.outTradeNo, order.amount]]);
    const report = await run(
      source(async () => bill),
      async () => {
        throw new WechatRetryableError({ layer: 'result', errCode: 'SYSTEMERROR', message: '系统超时' });
      },
    )('2024-01-01');
    expect(report.status).toBe('needs_attention');
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'bill_payment_not_recorded',
        ref: order.outTradeNo,
        needsPerson: true,
        after: expect.stringMatching(/^not settled: WeChat asked for a retry: SYSTEMERROR/),
      }),
    ]);
  });

  it('a query that answers another transaction than the bill does not count as settled', async () => {
    const order = await s.newOrder();
    const bill = billOf([['4200000002', order.outTradeNo, order.amount]]);
    const report = await run(
      source(async () => bill),
      async (o) => ({ ...o, status: 'PAID', transactionId: '4200009999' }),
    )('2024-01-01');
    const finding = report.findings.find((f) => f.ref === order.outTradeNo);
    expect(finding).toMatchObject({ action: 'settled_by_order_query', after: 'PAID', needsPerson: true });
  });

  it.each([
    [
      'v2 Bill Creating',
      new WechatRetryableError({ layer: 'return', errCode: 'BILL_CREATING', message: 'Bill Creating' }),
      'BILL_NOT_READY',
    ],
    [
      'v3 STATEMENT_CREATING',
      new WechatRejectedError({ layer: 'result', errCode: 'STATEMENT_CREATING', message: '账单生成中' }),
      'BILL_NOT_READY',
    ],
    [
      'a hash that does not match',
      new WechatUnknownOutcomeError('malformed', 'billdownload: file does not match hash_value'),
      'BILL_MALFORMED',
    ],
  ])('%s is %s, and nothing is saved', async (_, thrown, code) => {
    const err = await run(
      source(async () => {
        throw thrown;
      }),
      neverSettles,
    )('2023-12-29').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code);
    expect(await findReport(s.handle.db, '2023-12-29')).toBeUndefined();
  });

  it('a bill cut off before its totals is BILL_MALFORMED; WeChat unreachable stays what it is', async () => {
    const cut = billOf([['4200000003', 'X', 1]])
      .split('\r\n')
      .slice(0, 2)
      .join('\r\n');
    await expect(
      run(
        source(async () => cut),
        neverSettles,
      )('2023-12-28'),
    ).rejects.toMatchObject({
      code: 'BILL_MALFORMED',
    });
    const down = new WechatUnknownOutcomeError('timeout', 'downloadbill: timed out');
    await expect(
      run(
        source(async () => {
          throw down;
        }),
        neverSettles,
      )('2023-12-28'),
    ).rejects.toBe(down);
    expect(await findReport(s.handle.db, '2023-12-28')).toBeUndefined();
  });

  it('refuses a day that has not ended, and a date that is not one', async () => {
    const r = run(
      source(async () => null),
      neverSettles,
    );
    await expect(r('2024-01-02')).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringMatching(/has not ended/),
    });
    await expect(r('2024-13-01')).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
