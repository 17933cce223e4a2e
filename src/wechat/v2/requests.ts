import { isIP } from 'node:net';
import { WechatError } from '../errors.js';
import {
  isValidFen,
  isValidOutRefundNo,
  isValidOutTradeNo,
  parseWechatTime,
  utf8ByteLength,
} from './fields.js';

/**
 * Typed inputs of the v2 calls and their snake_case field maps (without appid, mch_id,
 * nonce_str and sign, which the client adds). The builders are deterministic: the same input
 * gives the same fields, so a retry after SYSTEMERROR or a timeout is byte-identical apart from
 * the nonce. Inputs WeChat would refuse are refused here first with `INVALID_ARGUMENT`, before
 * anything is sent.
 */

export interface UnifiedOrderInput {
  /** Product description, at most 127 UTF-8 bytes (use truncateUtf8). */
  body: string;
  outTradeNo: string;
  /** Integer fen. */
  totalFee: number;
  spbillCreateIp: string;
  /** HTTPS URL without a query string. */
  notifyUrl: string;
  /** Required for JSAPI (Mini Program) orders. */
  openid?: string;
  tradeType?: 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB';
  /** Required for NATIVE (QR code) orders, at most 32 UTF-8 bytes. */
  productId?: string;
  attach?: string;
  /** `yyyyMMddHHmmss`, Beijing time (formatWechatTime). */
  timeStart?: string;
  timeExpire?: string;
  /** JSON string, passed through as WeChat expects. */
  detail?: string;
  goodsTag?: string;
  /** Only `CNY` for a domestic merchant. */
  feeType?: string;
}

const TRADE_TYPES: readonly string[] = ['JSAPI', 'NATIVE', 'APP', 'MWEB'];

export type OrderQueryInput =
  | { outTradeNo: string; transactionId?: never }
  | { transactionId: string; outTradeNo?: never };

export type RefundInput = (
  | { outTradeNo: string; transactionId?: never }
  | { transactionId: string; outTradeNo?: never }
) & {
  outRefundNo: string;
  /** The original order amount, fen. */
  totalFee: number;
  refundFee: number;
  refundDesc?: string;
  notifyUrl?: string;
};

export type RefundQueryInput = (
  | { outRefundNo: string }
  | { refundId: string }
  | { outTradeNo: string }
  | { transactionId: string }
) & { offset?: number };

export interface DownloadBillInput {
  /** `yyyyMMdd`. */
  billDate: string;
  billType?: 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND';
  /** `GZIP`: WeChat sends the bill compressed; the client unpacks it. */
  tarType?: 'GZIP';
}

function invalid(message: string): WechatError {
  return new WechatError('INVALID_ARGUMENT', message);
}

function checkOutTradeNo(value: string): string {
  if (!isValidOutTradeNo(value)) throw invalid('outTradeNo must be 6–32 characters of [0-9A-Za-z_-|*]');
  return value;
}

function checkFen(name: string, value: number): string {
  if (!isValidFen(value))
    throw invalid(`${name} must be a whole number of fen from 1 to 2147483647 (got ${value})`);
  return String(value);
}

/** An empty optional field is no field: it is left out of the signature and WeChat reads it as absent. */
const given = (value: string | undefined): string | undefined => (value === '' ? undefined : value);

function checkBytes(name: string, raw: string | undefined, max: number): string | undefined {
  const value = given(raw);
  if (value !== undefined && utf8ByteLength(value) > max) {
    throw invalid(
      `${name} is ${utf8ByteLength(value)} UTF-8 bytes; WeChat allows ${max} (cut it with truncateUtf8)`,
    );
  }
  return value;
}

function checkTime(name: string, raw: string | undefined): string | undefined {
  const value = given(raw);
  if (value !== undefined && parseWechatTime(value) === undefined) {
    throw invalid(`${name} must be yyyyMMddHHmmss in Beijing time (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** WeChat drops a query string, and a fragment never reaches the server: both are refused. */
function checkNotifyUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`notifyUrl is not a URL (got ${JSON.stringify(value)})`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || value.includes('?') || value.includes('#')) {
    throw invalid('notifyUrl must be an http(s) URL without a query string or #fragment');
  }
  return checkBytes('notifyUrl', value, 256);
}

/**
 * @example
 * toUnifiedOrderFields({ body: '咖啡', outTradeNo: 'ORDER_1', totalFee: 1, spbillCreateIp: '127.0.0.1',
 *   notifyUrl: 'https://shop.example/notify', openid: 'o…' })
 * // { body: '咖啡', out_trade_no: 'ORDER_1', total_fee: '1', …, trade_type: 'JSAPI', openid: 'o…' }
 */
export function toUnifiedOrderFields(input: UnifiedOrderInput): Record<string, string | undefined> {
  const tradeType = input.tradeType ?? 'JSAPI';
  if (input.body === '') throw invalid('body must not be empty');
  if (!TRADE_TYPES.includes(tradeType))
    throw invalid(`tradeType must be one of ${TRADE_TYPES.join(', ')} (got ${JSON.stringify(tradeType)})`);
  if (tradeType === 'JSAPI' && !input.openid) throw invalid('openid is required for JSAPI orders');
  if (tradeType === 'NATIVE' && !input.productId) throw invalid('productId is required for NATIVE orders');
  if (isIP(input.spbillCreateIp) === 0)
    throw invalid(
      `spbillCreateIp must be an IPv4 or IPv6 address (got ${JSON.stringify(input.spbillCreateIp)})`,
    );
  if (given(input.feeType) !== undefined && input.feeType !== 'CNY')
    throw invalid(`feeType must be CNY (got ${JSON.stringify(input.feeType)})`);
  return {
    body: checkBytes('body', input.body, 127),
    out_trade_no: checkOutTradeNo(input.outTradeNo),
    total_fee: checkFen('totalFee', input.totalFee),
    spbill_create_ip: checkBytes('spbillCreateIp', input.spbillCreateIp, 64),
    notify_url: checkNotifyUrl(input.notifyUrl),
    trade_type: tradeType,
    openid: checkBytes('openid', input.openid, 128),
    product_id: checkBytes('productId', input.productId, 32),
    attach: checkBytes('attach', input.attach, 127),
    time_start: checkTime('timeStart', input.timeStart),
    time_expire: checkTime('timeExpire', input.timeExpire),
    detail: checkBytes('detail', input.detail, 6000),
    goods_tag: checkBytes('goodsTag', input.goodsTag, 32),
    fee_type: given(input.feeType),
  };
}

/** `transaction_id` wins at WeChat when both are sent, so we send exactly one. */
function tradeRef(input: {
  outTradeNo?: string;
  transactionId?: string;
}): Record<string, string | undefined> {
  if (input.transactionId !== undefined) return { transaction_id: input.transactionId };
  if (input.outTradeNo !== undefined) return { out_trade_no: checkOutTradeNo(input.outTradeNo) };
  throw invalid('give outTradeNo or transactionId');
}

/** @example toOrderQueryFields({ outTradeNo: 'ORDER_1' }) // { out_trade_no: 'ORDER_1' } */
export function toOrderQueryFields(input: OrderQueryInput): Record<string, string | undefined> {
  return tradeRef(input);
}

/** @example toCloseOrderFields({ outTradeNo: 'ORDER_1' }) // { out_trade_no: 'ORDER_1' } */
export function toCloseOrderFields(input: { outTradeNo: string }): Record<string, string | undefined> {
  return { out_trade_no: checkOutTradeNo(input.outTradeNo) };
}

/**
 * @example
 * toRefundFields({ outTradeNo: 'ORDER_1', outRefundNo: 'R1', totalFee: 100, refundFee: 40 })
 * // { out_trade_no: 'ORDER_1', out_refund_no: 'R1', total_fee: '100', refund_fee: '40' }
 */
export function toRefundFields(input: RefundInput): Record<string, string | undefined> {
  if (!isValidOutRefundNo(input.outRefundNo))
    throw invalid('outRefundNo must be 1–64 characters of [0-9A-Za-z_-|*@]');
  if (input.refundFee > input.totalFee) throw invalid('refundFee must not exceed totalFee');
  return {
    ...tradeRef(input),
    out_refund_no: input.outRefundNo,
    total_fee: checkFen('totalFee', input.totalFee),
    refund_fee: checkFen('refundFee', input.refundFee),
    refund_desc: checkBytes('refundDesc', input.refundDesc, 80),
    notify_url: checkNotifyUrl(input.notifyUrl),
  };
}

/** @example toRefundQueryFields({ outRefundNo: 'R1' }) // { out_refund_no: 'R1' } */
export function toRefundQueryFields(input: RefundQueryInput): Record<string, string | undefined> {
  const offset = input.offset;
  if (offset !== undefined && !(Number.isInteger(offset) && offset >= 0))
    throw invalid('offset must be an integer ≥ 0');
  const ref: Record<string, string | undefined> =
    'outRefundNo' in input
      ? { out_refund_no: input.outRefundNo }
      : 'refundId' in input
        ? { refund_id: input.refundId }
        : tradeRef(input);
  return { ...ref, offset: offset === undefined ? undefined : String(offset) };
}

/** @example toDownloadBillFields({ billDate: '20240101' }) // { bill_date: '20240101', bill_type: 'ALL' } */
export function toDownloadBillFields(input: DownloadBillInput): Record<string, string | undefined> {
  if (!/^\d{8}$/.test(input.billDate) || parseWechatTime(`${input.billDate}000000`) === undefined) {
    throw invalid(`billDate must be yyyyMMdd (got ${JSON.stringify(input.billDate)})`);
  }
  return { bill_date: input.billDate, bill_type: input.billType ?? 'ALL', tar_type: input.tarType };
}
