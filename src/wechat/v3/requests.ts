import { WechatError } from '../errors.js';
import { isValidFen, isValidOutRefundNo, utf8ByteLength } from '../v2/fields.js';

/**
 * Typed inputs of the v3 calls and their JSON bodies and paths (《JSAPI下单》, 《查询订单》,
 * 《关闭订单》, 《退款申请》, 《查询单笔退款》, 《申请交易账单》). The builders are deterministic, so
 * a retry after SYSTEM_ERROR or a timeout sends the same body. Inputs WeChat would refuse are
 * refused here first with `INVALID_ARGUMENT`, before anything is sent.
 */

/**
 * `out_trade_no` for v3: 6–32 characters of `[0-9A-Za-z_-*]`. The pipe that v2 and partner pages
 * allow is left out: the merchant page of 《JSAPI下单》 does not list it.
 */
export const V3_OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-*]{6,32}$/;

export interface JsapiInput {
  /** Product description, at most 127 UTF-8 bytes. */
  description: string;
  outTradeNo: string;
  /** HTTPS URL without a query string, at most 255 bytes. */
  notifyUrl: string;
  /** Integer fen, at least 1. */
  total: number;
  /** The payer's openid for this appid. */
  openid: string;
  /** `CNY` when absent. */
  currency?: string;
  attach?: string;
  /** RFC 3339 with an offset, e.g. `2024-01-01T12:30:00+08:00`: the payment deadline. */
  timeExpire?: string;
  goodsTag?: string;
  /** The payer's IP, sent as `scene_info.payer_client_ip`. */
  payerClientIp?: string;
}

export type V3RefundInput = (
  | { outTradeNo: string; transactionId?: never }
  | { transactionId: string; outTradeNo?: never }
) & {
  outRefundNo: string;
  /** Amount to refund, fen. */
  refund: number;
  /** The original order amount, fen. */
  total: number;
  reason?: string;
  notifyUrl?: string;
  currency?: string;
};

export interface TradeBillInput {
  /** `yyyy-MM-dd`. */
  billDate: string;
  billType?: 'ALL' | 'SUCCESS' | 'REFUND';
  /** `GZIP`: the file is compressed (its hash_value is the compressed file's); the client unpacks it. */
  tarType?: 'GZIP';
}

function invalid(message: string): WechatError {
  return new WechatError('INVALID_ARGUMENT', message);
}

function checkOutTradeNo(value: string): string {
  if (typeof value !== 'string' || !V3_OUT_TRADE_NO_PATTERN.test(value)) {
    throw invalid('outTradeNo must be 6–32 characters of [0-9A-Za-z_-*]');
  }
  return value;
}

function checkFen(name: string, value: number): number {
  if (!isValidFen(value))
    throw invalid(`${name} must be a whole number of fen from 1 to 2147483647 (got ${value})`);
  return value;
}

function checkText(
  name: string,
  value: string | undefined,
  max: number,
  required = false,
): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw invalid(`${name} must not be empty`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(`${name} must be a string`);
  const bytes = utf8ByteLength(value);
  if (bytes > max)
    throw invalid(`${name} is ${bytes} UTF-8 bytes; WeChat allows ${max} (cut it with truncateUtf8)`);
  return value;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checkNotifyUrl(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`notifyUrl is not a URL (got ${JSON.stringify(value)})`);
  }
  // API v3 only calls HTTPS notify URLs, and a query string is refused by WeChat. A loopback
  // address is unreachable from WeChat anyway: plain http there can only mean a local simulator
  // (the demo, the service tests), so it is allowed.
  const local = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if ((url.protocol !== 'https:' && !local) || url.search !== '' || value.includes('?')) {
    throw invalid('notifyUrl must be an https URL without a query string');
  }
  return checkText('notifyUrl', value, max);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/;

function checkRfc3339(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalid(`${name} must be RFC 3339 with an offset, e.g. 2024-01-01T12:30:00+08:00`);
  }
  return value;
}

/**
 * The body of `POST /v3/pay/transactions/jsapi`.
 *
 * @example
 * toJsapiBody({ description: 'Test-Coffee', outTradeNo: 'ORDER_20240101_0001', total: 1, openid: 'oUpF…',
 *   notifyUrl: 'https://example.com/wxpay/v3/notify' }, { appid: 'wx1234567890abcdef', mchid: '1900000109' })
 * // { appid, mchid, description: 'Test-Coffee', out_trade_no: 'ORDER_20240101_0001', notify_url: …,
 * //   amount: { total: 1, currency: 'CNY' }, payer: { openid: 'oUpF…' } }
 */
export function toJsapiBody(
  input: JsapiInput,
  id: { appid: string; mchid: string },
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    appid: id.appid,
    mchid: id.mchid,
    description: checkText('description', input.description, 127, true),
    out_trade_no: checkOutTradeNo(input.outTradeNo),
    time_expire: checkRfc3339('timeExpire', input.timeExpire),
    attach: checkText('attach', input.attach, 128),
    notify_url: checkNotifyUrl(input.notifyUrl ?? '', 255),
    goods_tag: checkText('goodsTag', input.goodsTag, 32),
    amount: {
      total: checkFen('total', input.total),
      currency: checkText('currency', input.currency, 16) ?? 'CNY',
    },
    payer: { openid: checkText('openid', input.openid, 128, true) },
  };
  if (input.payerClientIp !== undefined) {
    body.scene_info = { payer_client_ip: checkText('payerClientIp', input.payerClientIp, 45, true) };
  }
  return body;
}

/**
 * The body of `POST /v3/refund/domestic/refunds`.
 *
 * @example
 * toRefundBody({ outTradeNo: 'ORDER_1', outRefundNo: 'R1', refund: 40, total: 100 })
 * // { out_trade_no: 'ORDER_1', out_refund_no: 'R1', amount: { refund: 40, total: 100, currency: 'CNY' } }
 */
export function toRefundBody(input: V3RefundInput): Record<string, unknown> {
  if (typeof input.outRefundNo !== 'string' || !isValidOutRefundNo(input.outRefundNo)) {
    throw invalid('outRefundNo must be 1–64 characters of [0-9A-Za-z_-|*@]');
  }
  checkFen('refund', input.refund);
  checkFen('total', input.total);
  if (input.refund > input.total) throw invalid('refund must not exceed total');
  const ref =
    input.transactionId !== undefined
      ? { transaction_id: checkText('transactionId', input.transactionId, 32, true) }
      : input.outTradeNo !== undefined
        ? { out_trade_no: checkOutTradeNo(input.outTradeNo) }
        : undefined;
  if (!ref) throw invalid('give outTradeNo or transactionId');
  return {
    ...ref,
    out_refund_no: input.outRefundNo,
    reason: checkText('reason', input.reason, 80),
    notify_url: checkNotifyUrl(input.notifyUrl, 256),
    amount: {
      refund: input.refund,
      total: input.total,
      currency: checkText('currency', input.currency, 16) ?? 'CNY',
    },
  };
}

/**
 * Paths (with query) of the GET and close calls, each segment checked and encoded.
 *
 * @example
 * v3Paths.queryByOutTradeNo('ORDER_1', '1900000109') // '/v3/pay/transactions/out-trade-no/ORDER_1?mchid=1900000109'
 */
export const v3Paths = {
  jsapi: () => '/v3/pay/transactions/jsapi',
  queryByOutTradeNo: (outTradeNo: string, mchid: string) =>
    `/v3/pay/transactions/out-trade-no/${checkOutTradeNo(outTradeNo)}?mchid=${encodeURIComponent(mchid)}`,
  queryById: (transactionId: string, mchid: string) => {
    if (typeof transactionId !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(transactionId)) {
      throw invalid('transactionId must be 1–32 characters of [0-9A-Za-z]');
    }
    return `/v3/pay/transactions/id/${transactionId}?mchid=${encodeURIComponent(mchid)}`;
  },
  close: (outTradeNo: string) => `/v3/pay/transactions/out-trade-no/${checkOutTradeNo(outTradeNo)}/close`,
  refund: () => '/v3/refund/domestic/refunds',
  queryRefund: (outRefundNo: string) => {
    if (typeof outRefundNo !== 'string' || !isValidOutRefundNo(outRefundNo)) {
      throw invalid('outRefundNo must be 1–64 characters of [0-9A-Za-z_-|*@]');
    }
    return `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`;
  },
  tradeBill: (input: TradeBillInput) => {
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(input.billDate) ||
      Number.isNaN(Date.parse(`${input.billDate}T00:00:00Z`))
    ) {
      throw invalid(`billDate must be yyyy-MM-dd (got ${JSON.stringify(input.billDate)})`);
    }
    const tar = input.tarType ? `&tar_type=${input.tarType}` : '';
    return `/v3/bill/tradebill?bill_date=${input.billDate}&bill_type=${input.billType ?? 'ALL'}${tar}`;
  },
  certificates: () => '/v3/certificates',
};
