import { NotificationError, XmlError } from '../errors.js';

export { NotificationError, type NotificationErrorCode } from '../errors.js';

import { parseFen, parseWechatTime } from './fields.js';
import { type V2SignType, verifyV2, withSignV2 } from './sign.js';
import { buildXml, DEFAULT_MAX_XML_BYTES, parseXml } from './xml.js';

/**
 * The v2 payment notification, both directions: verifying one (the service) and building one
 * (the simulator, the benchmarks), plus the reply WeChat expects and how WeChat judges it.
 *
 * Verification order: strict parse → signature over ALL received fields, unconditionally (a
 * notification without `sign` is a forgery, not a special case; SDKs that skipped the check
 * for it accepted forged notifications) → required fields → formats → `return_code`/
 * `result_code`. Matching the amount, appid and mch_id against our own order is the service's
 * job; this module knows no orders.
 */

export interface PaymentNotification {
  appid: string;
  mchId: string;
  openid: string;
  outTradeNo: string;
  transactionId: string;
  /** Order amount in fen. Compare THIS with the order, never cashFee (coupons lower it). */
  totalFee: number;
  cashFee: number;
  /** `CNY` when WeChat leaves it out. */
  feeType: string;
  /** `yyyyMMddHHmmss`, Beijing time. */
  timeEnd: string;
  tradeType: string;
  bankType: string;
  attach?: string;
  /** Every received field, for audit. */
  fields: Readonly<Record<string, string>>;
}

export interface VerifyNotificationOptions {
  key: string;
  /** The algorithm the order was placed with; a notification signed otherwise is refused. */
  signType?: V2SignType;
  maxBytes?: number;
}

const REQUIRED_FIELDS = [
  'return_code',
  'appid',
  'mch_id',
  'nonce_str',
  'result_code',
  'openid',
  'trade_type',
  'bank_type',
  'total_fee',
  'cash_fee',
  'transaction_id',
  'out_trade_no',
  'time_end',
] as const;

/** Parses strictly; XML problems keep their XML_* code. */
export function parseNotificationXml(
  raw: Buffer | string,
  maxBytes = DEFAULT_MAX_XML_BYTES,
): Record<string, string> {
  try {
    return parseXml(raw, { maxBytes });
  } catch (err) {
    if (err instanceof XmlError) throw new NotificationError(err.code, err.message, { cause: err });
    throw err;
  }
}

function fen(fields: Record<string, string>, name: string): number {
  const value = parseFen(fields[name] ?? '');
  if (value === undefined)
    throw new NotificationError('INVALID_FIELD', `${name} is not an amount in fen`, { field: name });
  return value;
}

/**
 * @throws {NotificationError} XML_* | SIGN_ERROR | MISSING_FIELD | INVALID_FIELD | NOT_SUCCESS
 * @example
 * const n = verifyPaymentNotification(request.body, { key: env.WECHAT_MCH_KEY });
 * // n.outTradeNo, n.totalFee (fen), n.transactionId …
 */
export function verifyPaymentNotification(
  raw: Buffer | string,
  options: VerifyNotificationOptions,
): PaymentNotification {
  return verifyNotificationFields(parseNotificationXml(raw, options.maxBytes), options);
}

/**
 * {@link verifyPaymentNotification} for fields already parsed by {@link parseNotificationXml}, so
 * a caller that had to read a field first (the order it names) parses the body once.
 * @throws {NotificationError} SIGN_ERROR | MISSING_FIELD | INVALID_FIELD | NOT_SUCCESS
 */
export function verifyNotificationFields(
  fields: Record<string, string>,
  options: Pick<VerifyNotificationOptions, 'key' | 'signType'>,
): PaymentNotification {
  if (!verifyV2(fields, options.key, options.signType)) {
    throw new NotificationError('SIGN_ERROR', 'notification signature does not verify', { field: 'sign' });
  }
  for (const name of REQUIRED_FIELDS) {
    if (fields[name] === undefined || fields[name] === '') {
      throw new NotificationError('MISSING_FIELD', `notification lacks ${name}`, { field: name });
    }
  }
  const totalFee = fen(fields, 'total_fee');
  const cashFee = fen(fields, 'cash_fee');
  const timeEnd = fields.time_end as string;
  if (parseWechatTime(timeEnd) === undefined) {
    throw new NotificationError('INVALID_FIELD', 'time_end is not yyyyMMddHHmmss', { field: 'time_end' });
  }
  for (const name of ['return_code', 'result_code'] as const) {
    if (fields[name] !== 'SUCCESS') {
      throw new NotificationError('NOT_SUCCESS', `notification ${name} is ${fields[name]}`, { field: name });
    }
  }
  const attach = fields.attach;
  return {
    appid: fields.appid as string,
    mchId: fields.mch_id as string,
    openid: fields.openid as string,
    outTradeNo: fields.out_trade_no as string,
    transactionId: fields.transaction_id as string,
    totalFee,
    cashFee,
    feeType: fields.fee_type || 'CNY',
    timeEnd,
    tradeType: fields.trade_type as string,
    bankType: fields.bank_type as string,
    ...(attach ? { attach } : {}),
    fields,
  };
}

/**
 * The reply body for a v2 notification (HTTP 200). `false` asks WeChat to send it again.
 *
 * @example
 * notifyReply(true)
 * // '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
 * notifyReply(false, 'SIGN_ERROR')
 * // '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[SIGN_ERROR]]></return_msg></xml>'
 */
export function notifyReply(ok: boolean, message?: string): string {
  return buildXml(
    { return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: message ?? (ok ? 'OK' : 'FAIL') },
    'xml',
    { cdata: 'always' },
  );
}

/**
 * How WeChat judges a merchant's reply: HTTP 200, well-formed v2 XML, `return_code` SUCCESS.
 * A plain `success`, JSON, an HTML page or any other status means "not received": retry.
 *
 * @example
 * isSuccessfulNotifyReply(200, notifyReply(true)) // true
 * isSuccessfulNotifyReply(200, 'success') // false
 */
export function isSuccessfulNotifyReply(status: number, body: Buffer | string): boolean {
  if (status !== 200) return false;
  try {
    return parseXml(body).return_code === 'SUCCESS';
  } catch {
    return false;
  }
}

/**
 * A signed payment notification as WeChat sends it; the simulator and the benchmarks post it.
 *
 * @example
 * buildPaymentNotification({ return_code: 'SUCCESS', result_code: 'SUCCESS', appid, mch_id, … }, key, 'MD5')
 * // '<xml><return_code>SUCCESS</return_code>…<sign>D27337D1…</sign></xml>'
 */
export function buildPaymentNotification(
  fields: Readonly<Record<string, string>>,
  key: string,
  signType: V2SignType = 'MD5',
): string {
  return buildXml(withSignV2(fields, key, signType));
}
