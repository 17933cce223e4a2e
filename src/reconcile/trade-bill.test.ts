import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { yuan } from '../simulator/bill.js';
import { fenToYuan, parseTradeBill, TradeBillFormatError, yuanToFen } from './trade-bill.js';

/** The ALL layout's 27 columns, as 《下载交易账单》 lists them. */
const ALL_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

const tick = (cells: string[]) => cells.map((c) => `\`${c}`).join(',');

function paymentLine(outTradeNo: string, fen: number, body = '拿铁') {
  return tick([
    '2024-01-01 12:05:30',
    'wx1234567890abcdef',
    '1900000109',
    '0',
    '',
    `42000${outTradeNo}`,
    outTradeNo,
    'oUser',
    'JSAPI',
    'SUCCESS',
    'OTHERS',
    'CNY',
    yuan(fen),
    '0.00',
    '0',
    '0',
    '0.00',
    '0.00',
    '',
    '',
    body,
    '',
    '0.17000',
    '0.60%',
    yuan(fen),
    '0.00',
    '',
  ]);
}

function refundLine(outTradeNo: string, outRefundNo: string, fen: number, status = 'SUCCESS') {
  return tick([
    '2024-01-01 18:00:00',
    'wx1234567890abcdef',
    '1900000109',
    '0',
    '',
    `42000${outTradeNo}`,
    outTradeNo,
    'oUser',
    'JSAPI',
    'REFUND',
    'OTHERS',
    'CNY',
    '0.00',
    '0.00',
    `503${outRefundNo}`,
    outRefundNo,
    yuan(fen),
    '0.00',
    'ORIGINAL',
    status,
    '拿铁',
    '',
    '-0.05000',
    '0.60%',
    '0.00',
    yuan(fen),
    '',
  ]);
}

function bill(lines: string[], totals: { rows: number; settlement: number; refund: number }) {
  const summary = tick([
    String(totals.rows),
    yuan(totals.settlement),
    yuan(totals.refund),
    '0.00',
    '0.12000',
    yuan(totals.settlement),
    yuan(totals.refund),
  ]);
  return [ALL_HEADER, ...lines, SUMMARY_HEADER, summary, ''].join('\r\n');
}

describe('parseTradeBill', () => {
  it('reads payments and refunds by column name, amounts in fen, times as Beijing time', () => {
    const parsed = parseTradeBill(
      bill([paymentLine('ORDER_1', 2800), refundLine('ORDER_1', 'R1', 800)], {
        rows: 2,
        settlement: 2800,
        refund: 800,
      }),
    );
    expect(parsed.payments).toEqual([
      {
        outTradeNo: 'ORDER_1',
        transactionId: '42000ORDER_1',
        amount: 2800,
        at: Date.UTC(2024, 0, 1, 4, 5, 30),
        line: 2,
      },
    ]);
    expect(parsed.refunds).toEqual([
      {
        outTradeNo: 'ORDER_1',
        transactionId: '42000ORDER_1',
        outRefundNo: 'R1',
        refundId: '503R1',
        amount: 800,
        status: 'SUCCESS',
        at: Date.UTC(2024, 0, 1, 10, 0, 0),
        line: 3,
      },
    ]);
    expect(parsed.summary).toEqual({ rows: 2, settlementTotal: 2800, refundTotal: 800 });
    expect(parsed.counted).toEqual(parsed.summary);
  });

  it('keeps a product name that holds a comma in one value (values are split on ",`")', () => {
    const parsed = parseTradeBill(
      bill([paymentLine('ORDER_2', 1, '咖啡,加糖')], { rows: 1, settlement: 1, refund: 0 }),
    );
    expect(parsed.payments.map((p) => [p.outTradeNo, p.amount])).toEqual([['ORDER_2', 1]]);
  });

  it('reports the summary as written and the totals as counted, so a cut or altered bill shows', () => {
    const parsed = parseTradeBill(
      bill([paymentLine('ORDER_1', 2800)], { rows: 2, settlement: 5600, refund: 0 }),
    );
    expect(parsed.summary).toEqual({ rows: 2, settlementTotal: 5600, refundTotal: 0 });
    expect(parsed.counted).toEqual({ rows: 1, settlementTotal: 2800, refundTotal: 0 });
  });

  it('reads REFUNDCLOSE, PROCESSING and CHANGE refund rows', () => {
    const lines = ['REFUNDCLOSE', 'PROCESSING', 'CHANGE'].map((s, i) => refundLine('O', `R${i}`, 1, s));
    const parsed = parseTradeBill(bill(lines, { rows: 3, settlement: 0, refund: 3 }));
    expect(parsed.refunds.map((r) => r.status)).toEqual(['REFUNDCLOSE', 'PROCESSING', 'CHANGE']);
  });

  it.each([
    ['an empty text', ''],
    ['a bill without its summary', [ALL_HEADER, paymentLine('ORDER_1', 1)].join('\r\n')],
    [
      'a bill cut after the summary header',
      [ALL_HEADER, paymentLine('ORDER_1', 1), SUMMARY_HEADER].join('\r\n'),
    ],
    [
      'a row with a value missing',
      bill([paymentLine('ORDER_1', 1).replace(/,`CNY/, '')], { rows: 1, settlement: 1, refund: 0 }),
    ],
    [
      'an amount that is not yuan',
      bill([paymentLine('ORDER_1', 1).replace('`0.01', '`0.015')], { rows: 1, settlement: 1, refund: 0 }),
    ],
    [
      'a value without its backtick',
      bill([paymentLine('ORDER_1', 1).slice(1)], { rows: 1, settlement: 1, refund: 0 }),
    ],
    [
      'an unknown refund state',
      bill([refundLine('O', 'R', 1, 'DONE')], { rows: 1, settlement: 0, refund: 1 }),
    ],
    [
      'a header without 商户订单号',
      bill([], { rows: 0, settlement: 0, refund: 0 }).replace('商户订单号', '订单'),
    ],
  ])('refuses %s with a TradeBillFormatError', (_, text) => {
    expect(() => parseTradeBill(text)).toThrow(TradeBillFormatError);
  });
});

describe('yuanToFen', () => {
  it("reads back every amount the simulator's bill writer, and our own formatter, write", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), (fen) => {
        expect(fenToYuan(fen)).toBe(yuan(fen));
        expect(yuanToFen(yuan(fen))).toBe(fen);
      }),
    );
  });

  it.each(['1.234', '1,00', '', '.5', '1e3', '¥1.00'])('refuses %j', (text) => {
    expect(yuanToFen(text)).toBeUndefined();
  });

  it('reads one decimal as tenths', () => {
    expect(yuanToFen('1.5')).toBe(150);
  });
});
