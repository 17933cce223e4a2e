import { isIP } from 'node:net';
import {
  OUT_REFUND_NO_PATTERN,
  OUT_TRADE_NO_PATTERN,
  parseFen,
  parseWechatTime,
  utf8ByteLength,
} from '../wechat/v2/fields.js';

/**
 * Field checks against the limits WeChat's v2 pages give (《统一下单》 to 《下载交易账单》). A
 * missing required field is a business error (`LACK_PARAMS`, signed); a present but malformed
 * one is a communication-layer `return_code=FAIL` whose `return_msg` names the field, as
 * WeChat's `body参数长度有误` does.
 */

export interface FieldSpec {
  required?: boolean;
  /** Limit in UTF-8 bytes (v2 `String(n)`). */
  maxBytes?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
  /** Integer fen, 1 to 2^31−1. */
  fen?: boolean;
  /** `yyyyMMddHHmmss`, a real Beijing time. */
  wechatTime?: boolean;
  /** IPv4 or IPv6. */
  ip?: boolean;
  /** An absolute http(s) URL without a query string. */
  notifyUrl?: boolean;
}

export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

export type FieldProblem =
  | { kind: 'missing'; field: string }
  | { kind: 'invalid'; field: string; message: string };

const present = (v: string | undefined): v is string => v !== undefined && v !== '';

/** `return_msg` for a malformed field: `body参数长度有误` is the wording WeChat is known to use. */
function invalid(field: string, what: 'length' | 'format', detail?: string): FieldProblem {
  const message =
    what === 'length' ? `${field}参数长度有误` : `${field}参数格式错误${detail ? `，${detail}` : ''}`;
  return { kind: 'invalid', field, message };
}

function checkNotifyUrl(field: string, value: string, requireHttps: boolean): FieldProblem | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return invalid(field, 'format', '须为完整的URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return invalid(field, 'format', '须为http(s)地址');
  if (requireHttps && url.protocol !== 'https:') return invalid(field, 'format', '须为https地址');
  if (value.includes('?') || value.includes('#')) return invalid(field, 'format', '不能携带参数');
  return undefined;
}

/**
 * The first problem with `fields` under `specs`, in spec order, or `undefined` when all pass.
 *
 * @example
 * checkFields({ body: '测'.repeat(43) }, { body: { required: true, maxBytes: 127 } })
 * // { kind: 'invalid', field: 'body', message: 'body参数长度有误' }
 */
export function checkFields(
  fields: Readonly<Record<string, string>>,
  specs: FieldSpecs,
  options: { requireHttps?: boolean } = {},
): FieldProblem | undefined {
  for (const [field, spec] of Object.entries(specs)) {
    const value = fields[field];
    if (!present(value)) {
      if (spec.required) return { kind: 'missing', field };
      continue;
    }
    if (spec.maxBytes !== undefined && utf8ByteLength(value) > spec.maxBytes) return invalid(field, 'length');
    if (spec.pattern && !spec.pattern.test(value)) return invalid(field, 'format');
    if (spec.oneOf && !spec.oneOf.includes(value))
      return invalid(field, 'format', `可选值 ${spec.oneOf.join('/')}`);
    if (spec.fen && parseFen(value) === undefined) return invalid(field, 'format', '须为以分为单位的正整数');
    if (spec.wechatTime && parseWechatTime(value) === undefined)
      return invalid(field, 'format', '格式为yyyyMMddHHmmss');
    if (spec.ip && isIP(value) === 0) return invalid(field, 'format');
    if (spec.notifyUrl) {
      const problem = checkNotifyUrl(field, value, options.requireHttps ?? false);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Fields every v2 API carries; checked before the signature so a garbled message fails early. */
export const COMMON_SPECS: FieldSpecs = {
  appid: { required: true, maxBytes: 32 },
  mch_id: { required: true, maxBytes: 32 },
  nonce_str: { required: true, maxBytes: 32 },
  sign: { required: true, maxBytes: 64 },
};

export const OUT_TRADE_NO: FieldSpec = { pattern: OUT_TRADE_NO_PATTERN };
export const OUT_REFUND_NO: FieldSpec = { pattern: OUT_REFUND_NO_PATTERN };
export const TRANSACTION_ID: FieldSpec = { maxBytes: 32, pattern: /^[0-9A-Za-z]+$/ };
