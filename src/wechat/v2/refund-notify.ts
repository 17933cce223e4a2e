import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { NotificationError } from '../errors.js';
import { parseFen } from './fields.js';
import { parseNotificationXml } from './notify.js';
import type { V2RefundStatus } from './responses.js';
import { buildXml, parseXml } from './xml.js';

/**
 * The v2 refund notification (《退款结果通知》). Its outer XML carries no signature:
 * authenticity comes from `req_info` decrypting under our key. AES-256-ECB, key = the
 * lower-case hex MD5 of the API v2 key used as 32 ASCII bytes (not the 16 digest bytes),
 * standard PKCS#7; the plaintext is a flat `<root>` document.
 *
 * Example: key `SimulatorTestKey0123456789abcdef` → AES key `8a16185a45cc3e505d6177772d3246a2`;
 * the tests' fixed `req_info` decrypts to the 13 fields of R20240101000001, and encrypting those
 * fields (in that order, all CDATA) gives the same `req_info` back.
 */

function aesKey(apiKey: string): Buffer {
  return Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'utf8');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * @throws {NotificationError} DECRYPT_ERROR when it is not base64, the key is wrong, the padding
 *   is broken or the plaintext is not a flat `<root>` document.
 * @example
 * decryptRefundReqInfo(reqInfo, 'SimulatorTestKey0123456789abcdef')
 * // { out_refund_no: 'R20240101000001', out_trade_no: 'ORDER_20240101_0001', refund_fee: '1', … }
 */
export function decryptRefundReqInfo(reqInfo: string, key: string): Record<string, string> {
  if (!BASE64.test(reqInfo) || reqInfo.length % 4 !== 0)
    throw new NotificationError('DECRYPT_ERROR', 'req_info is not base64', { field: 'req_info' });
  const data = Buffer.from(reqInfo, 'base64');
  if (data.length % 16 !== 0) {
    throw new NotificationError('DECRYPT_ERROR', 'req_info is not whole AES blocks', { field: 'req_info' });
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-ecb', aesKey(key), null);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch (err) {
    throw new NotificationError('DECRYPT_ERROR', 'req_info does not decrypt with our key', {
      field: 'req_info',
      cause: err,
    });
  }
  try {
    return parseXml(plain, { root: 'root' });
  } catch (err) {
    // A wrong key passes the padding check about once in 256 tries and yields garbage.
    throw new NotificationError('DECRYPT_ERROR', 'req_info did not decrypt to a <root> document', {
      field: 'req_info',
      cause: err,
    });
  }
}

/**
 * The inverse, for the simulator: every value in CDATA as WeChat writes it, always padded.
 *
 * @example
 * encryptRefundReqInfo({ out_refund_no: 'R20240101000001', … }, key) // 'DZzR0O2M3d6Asr25…'
 */
export function encryptRefundReqInfo(fields: Readonly<Record<string, string>>, key: string): string {
  const cipher = createCipheriv('aes-256-ecb', aesKey(key), null);
  const plain = buildXml(fields, 'root', { cdata: 'always' });
  return Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export interface RefundNotification {
  appid: string;
  mchId: string;
  transactionId: string;
  outTradeNo: string;
  refundId: string;
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  /** Final states only: SUCCESS, CHANGE (abnormal, needs a person) or REFUNDCLOSE. */
  refundStatus: Exclude<V2RefundStatus, 'PROCESSING'>;
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time, when SUCCESS. */
  successTime?: string;
  /** The decrypted `req_info` fields. */
  fields: Readonly<Record<string, string>>;
}

const INNER_REQUIRED = [
  'transaction_id',
  'out_trade_no',
  'refund_id',
  'out_refund_no',
  'total_fee',
  'refund_fee',
  'refund_status',
];

function need(fields: Record<string, string>, name: string, where: string): string {
  const value = fields[name];
  if (value === undefined || value === '') {
    throw new NotificationError('MISSING_FIELD', `${where} lacks ${name}`, { field: name });
  }
  return value;
}

function fen(fields: Record<string, string>, name: string): number {
  const value = parseFen(fields[name] ?? '');
  if (value === undefined)
    throw new NotificationError('INVALID_FIELD', `${name} is not an amount in fen`, { field: name });
  return value;
}

function finalStatus(value: string): RefundNotification['refundStatus'] {
  if (value === 'SUCCESS' || value === 'CHANGE' || value === 'REFUNDCLOSE') return value;
  throw new NotificationError(
    'INVALID_FIELD',
    `refund_status ${JSON.stringify(value)} is not a final state`,
    {
      field: 'refund_status',
    },
  );
}

/**
 * Parses and decrypts a refund notification. Matching it against our own refund is the
 * service's job.
 *
 * @throws {NotificationError} XML_* | MISSING_FIELD | NOT_SUCCESS | DECRYPT_ERROR | INVALID_FIELD
 * @example
 * const n = verifyRefundNotification(request.body, { key }); // n.outRefundNo, n.refundStatus …
 */
export function verifyRefundNotification(
  raw: Buffer | string,
  options: { key: string; maxBytes?: number },
): RefundNotification {
  const outer = parseNotificationXml(raw, options.maxBytes);
  const returnCode = need(outer, 'return_code', 'refund notification');
  if (returnCode !== 'SUCCESS') {
    throw new NotificationError('NOT_SUCCESS', `refund notification return_code is ${returnCode}`, {
      field: 'return_code',
    });
  }
  for (const name of ['appid', 'mch_id', 'req_info']) need(outer, name, 'refund notification');
  const inner = decryptRefundReqInfo(outer.req_info as string, options.key);
  for (const name of INNER_REQUIRED) need(inner, name, 'req_info');
  const successTime = inner.success_time;
  return {
    appid: outer.appid as string,
    mchId: outer.mch_id as string,
    transactionId: inner.transaction_id as string,
    outTradeNo: inner.out_trade_no as string,
    refundId: inner.refund_id as string,
    outRefundNo: inner.out_refund_no as string,
    totalFee: fen(inner, 'total_fee'),
    refundFee: fen(inner, 'refund_fee'),
    refundStatus: finalStatus(inner.refund_status as string),
    ...(successTime ? { successTime } : {}),
    fields: inner,
  };
}

/**
 * A refund notification as WeChat sends it (unsigned outer XML, encrypted `req_info`).
 *
 * @example
 * buildRefundNotification({ appid, mch_id, nonce_str }, { out_refund_no: 'R1', … }, key)
 */
export function buildRefundNotification(
  outer: Readonly<Record<string, string>>,
  reqInfo: Readonly<Record<string, string>>,
  key: string,
): string {
  return buildXml({ return_code: 'SUCCESS', ...outer, req_info: encryptRefundReqInfo(reqInfo, key) });
}
