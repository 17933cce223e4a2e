import { gzipSync } from 'node:zlib';
import { parseWechatTime } from '../wechat/v2/fields.js';
import { formatRefundTime } from './notification-bodies.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder, SimRefund } from './state.js';
import type { V2Api, V2Outcome } from './v2-endpoint.js';

/**
 * `POST /pay/downloadbill` (《下载交易账单》): a day's bill (Beijing time) as WeChat's text format,
 * every value prefixed with a backtick, amounts in yuan, CRLF line ends, a summary at the end.
 * Failures are unsigned XML with `error_code`. A day's bill exists from `billDelayHours` after
 * the day ends; unpaid orders never appear.
 */

const HEADERS = {
  ALL: '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
  SUCCESS:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
  REFUND:
    '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
} as const;

const SUMMARY_FULL =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
const SUMMARY_SUCCESS = '总交易单数,应结订单总金额,手续费总金额,订单总金额';

const DAY_MS = 24 * 3600 * 1000;
const RATE = '0.60%';
/** Only the last 3 months can be downloaded. */
const RETENTION_DAYS = 92;

/** Integer fen → `12.34`. */
export const yuan = (fen: number): string =>
  `${fen < 0 ? '-' : ''}${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;

/** The 0.6% service fee, rounded half up to whole fen, shown with 5 decimals as WeChat does. */
const feeOf = (fen: number): number => Math.floor((fen * 6 + 500) / 1000);
const fee5 = (fen: number): string => `${yuan(fen)}000`;

interface Row {
  at: number;
  cells: string[];
  settlement: number;
  refund: number;
  fee: number;
  total: number;
}

const failure = (message: string, errorCode: string): V2Outcome => ({ kind: 'fail', message, errorCode });

function orderCells(o: SimOrder, tradeState: string): string[] {
  return [
    o.appid,
    o.mchId,
    '0',
    o.deviceInfo ?? '',
    o.transactionId ?? '',
    o.outTradeNo,
    o.openid ?? '',
  ].concat([o.tradeType, tradeState, o.bankType, 'CNY']);
}

function paymentRow(o: SimOrder, type: 'ALL' | 'SUCCESS'): Row {
  const fee = feeOf(o.totalFee);
  const head = [
    formatRefundTime(o.timeEnd!),
    ...orderCells(o, 'SUCCESS'),
    yuan(o.totalFee),
    yuan(o.couponFee),
  ];
  const refundCells = type === 'ALL' ? ['0', '0', '0.00', '0.00', '', ''] : [];
  const tail = [o.body, o.attach ?? '', fee5(fee), RATE, yuan(o.totalFee)];
  const cells = [...head, ...refundCells, ...tail, ...(type === 'ALL' ? ['0.00', ''] : [''])];
  return { at: o.timeEnd!, cells, settlement: o.totalFee, refund: 0, fee, total: o.totalFee };
}

function refundRow(o: SimOrder, r: SimRefund, type: 'ALL' | 'REFUND'): Row {
  const fee = -feeOf(r.refundFee);
  const at = r.successAt!;
  const refundCells = [r.refundId, r.outRefundNo, yuan(r.refundFee), '0.00', 'ORIGINAL', r.status];
  const cells =
    type === 'ALL'
      ? [formatRefundTime(at), ...orderCells(o, 'REFUND'), '0.00', '0.00', ...refundCells]
      : [
          formatRefundTime(o.timeEnd!),
          ...orderCells(o, 'REFUND'),
          yuan(o.totalFee),
          yuan(o.couponFee),
        ].concat([formatRefundTime(r.createdAt), formatRefundTime(at), ...refundCells]);
  cells.push(
    o.body,
    o.attach ?? '',
    fee5(fee),
    RATE,
    type === 'ALL' ? '0.00' : yuan(o.totalFee),
    yuan(r.refundFee),
    '',
  );
  // The REFUND bill repeats the order's amounts on its row, so its summary must count them too.
  const orderFen = type === 'ALL' ? 0 : o.totalFee;
  return { at, cells, settlement: orderFen, refund: r.refundFee, fee, total: orderFen };
}

const line = (cells: string[]): string => cells.map((c) => `\`${c}`).join(',');

/** Renders the bill text of `rows` for `billType`. */
export function renderBill(rows: Row[], billType: 'ALL' | 'SUCCESS' | 'REFUND'): string {
  const sum = (k: 'settlement' | 'refund' | 'fee' | 'total') => rows.reduce((s, r) => s + r[k], 0);
  const refundTotal = yuan(sum('refund'));
  const summary =
    billType === 'SUCCESS'
      ? [
          SUMMARY_SUCCESS,
          line([String(rows.length), yuan(sum('settlement')), fee5(sum('fee')), yuan(sum('total'))]),
        ]
      : [
          SUMMARY_FULL,
          line([String(rows.length), yuan(sum('settlement')), refundTotal, '0.00']).concat(
            `,${line([fee5(sum('fee')), yuan(sum('total')), refundTotal])}`,
          ),
        ];
  return [HEADERS[billType], ...rows.map((r) => line(r.cells)), ...summary, ''].join('\r\n');
}

export function createBillApi(ctx: SimContext): V2Api {
  return {
    api: 'downloadbill',
    path: '/pay/downloadbill',
    billStyle: true,
    handle({ fields, merchant, now }): V2Outcome {
      const date = fields.bill_date;
      if (!date) return failure('missing parameter', '20001');
      const dayStart = /^\d{8}$/.test(date) ? parseWechatTime(`${date}000000`) : undefined;
      if (dayStart === undefined) return failure('invalid bill_date', '20001');
      const billType = fields.bill_type || 'ALL';
      if (!['ALL', 'SUCCESS', 'REFUND', 'RECHARGE_REFUND'].includes(billType)) {
        return failure('invalid bill_type', '20001');
      }
      if (fields.tar_type && fields.tar_type !== 'GZIP') return failure('invalid tar_type', '20001');
      if (now < dayStart + DAY_MS + ctx.behaviour.billDelayHours * 3600 * 1000)
        return failure('Bill Creating', '20003');
      if (now > dayStart + RETENTION_DAYS * DAY_MS) return failure('No Bill Exist', '20002');
      const inDay = (t: number | undefined) => t !== undefined && t >= dayStart && t < dayStart + DAY_MS;
      const orders = ctx.state.orders(merchant.mchId);
      const rows: Row[] = [];
      const kind = billType === 'RECHARGE_REFUND' ? 'REFUND' : (billType as 'ALL' | 'SUCCESS' | 'REFUND');
      for (const o of orders) {
        if (kind !== 'REFUND' && o.transactionId && inDay(o.timeEnd)) rows.push(paymentRow(o, kind));
        if (kind === 'SUCCESS') continue;
        for (const r of o.refunds) {
          const recharge = r.refundAccount === 'REFUND_SOURCE_RECHARGE_FUNDS';
          if (r.status !== 'SUCCESS' || !inDay(r.successAt) || (billType === 'RECHARGE_REFUND' && !recharge))
            continue;
          rows.push(refundRow(o, r, kind));
        }
      }
      if (rows.length === 0) return failure('No Bill Exist', '20002');
      rows.sort((a, b) => a.at - b.at);
      const text = (ctx.behaviour.billBom ? '\ufeff' : '') + renderBill(rows, kind);
      if (fields.tar_type === 'GZIP')
        return { kind: 'text', body: gzipSync(text), contentType: 'application/x-gzip' };
      return { kind: 'text', body: text, contentType: 'text/plain; charset=utf-8' };
    },
  };
}
