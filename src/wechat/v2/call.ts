import { isUtf8 } from 'node:buffer';
import {
  type WechatFailure,
  WechatRejectedError,
  WechatRetryableError,
  WechatUnknownOutcomeError,
  XmlError,
} from '../errors.js';
import type { Transport, TransportResponse } from '../transport.js';
import { type V2SignType, verifyV2, withSignV2 } from './sign.js';
import { buildXml, parseXml } from './xml.js';

/**
 * One v2 call: build the signed XML request, POST it, and turn the answer into verified fields
 * or one of the three typed outcomes (see errors.ts). The judgement order follows WeChat's two
 * layers (`return_code`, then `result_code`): HTTP status, XML, `return_code`, then the signature,
 * and only then `result_code`. Nothing in a response is believed before its signature has
 * verified.
 */

export interface V2Identity {
  appid: string;
  mchId: string;
  key: string;
  signType: V2SignType;
}

/** `result_code=FAIL` codes that mean "call again with the same parameters" (each API's error table). */
export const V2_RETRYABLE_ERR_CODES: ReadonlySet<string> = new Set([
  'SYSTEMERROR',
  'BIZERR_NEED_RETRY',
  'FREQUENCY_LIMITED',
  'ORDER_NOT_READY',
]);

const RETURN_MSG_CODES: ReadonlyArray<readonly [RegExp, string]> = [
  [/签名错误|sign\s*error/i, 'SIGNERROR'],
  [/XML格式错误|xml\s*format/i, 'XML_FORMAT_ERROR'],
  [/缺少参数|missing\s*param/i, 'LACK_PARAMS'],
  [/appid和mch_?id不匹配/i, 'APPID_MCHID_NOT_MATCH'],
  [/参数长度有误|参数格式|invalid\s*parameter/i, 'PARAM_ERROR'],
  [/^\s*system\s*error\s*$/i, 'SYSTEMERROR'],
];

/**
 * The code for a `return_code=FAIL` answer. WeChat puts only a free-text `return_msg` there,
 * so known texts get the matching `err_code` name and anything else is `RETURN_FAIL`.
 *
 * @example
 * returnFailCode('签名错误，请检查后再试') // 'SIGNERROR'
 */
export function returnFailCode(returnMsg: string): string {
  for (const [pattern, code] of RETURN_MSG_CODES) if (pattern.test(returnMsg)) return code;
  return 'RETURN_FAIL';
}

/**
 * The signed request fields: ours (appid, mch_id, nonce_str) first, then the call's own;
 * `undefined` values are left out so optional inputs never travel as empty strings.
 *
 * @example
 * signedRequestV2({ out_trade_no: 'ORDER_1' }, identity, 'Xk3pQ9zT2vLm8RsW')
 * // { appid, mch_id, nonce_str: 'Xk3pQ9zT2vLm8RsW', out_trade_no: 'ORDER_1', sign: '…' }
 */
export function signedRequestV2(
  fields: Readonly<Record<string, string | undefined>>,
  id: V2Identity,
  nonce: string,
): Record<string, string> {
  const out: Record<string, string> = { appid: id.appid, mch_id: id.mchId, nonce_str: nonce };
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value;
  return withSignV2(out, id.key, id.signType);
}

function checkStatus(res: TransportResponse, what: string): void {
  if (res.status < 200 || res.status > 299) {
    throw new WechatUnknownOutcomeError('http_status', `${what}: WeChat answered HTTP ${res.status}`, {
      httpStatus: res.status,
    });
  }
}

function parseOrUnknown(body: Buffer, what: string): Record<string, string> {
  try {
    return parseXml(body);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    throw new WechatUnknownOutcomeError('malformed', `${what}: response is not v2 XML (${err.code})`, {
      cause: err,
    });
  }
}

/**
 * Judges a v2 response and returns its fields once they are trustworthy.
 *
 * @throws {WechatUnknownOutcomeError} non-2xx, not XML, a bad signature, or someone else's appid/mch_id
 * @throws {WechatRejectedError} `return_code=FAIL`, or `result_code=FAIL` with a final `err_code`
 * @throws {WechatRetryableError} `result_code=FAIL` with SYSTEMERROR and the like
 * @example
 * const fields = interpretV2Response(await transport.request(req), identity, 'unifiedorder');
 */
export function interpretV2Response(
  res: TransportResponse,
  id: V2Identity,
  what: string,
): Record<string, string> {
  checkStatus(res, what);
  const fields = parseOrUnknown(res.body, what);
  const returnCode = fields.return_code;
  if (returnCode === 'FAIL') {
    const message = fields.return_msg ?? '';
    throw new WechatRejectedError({ layer: 'return', errCode: returnFailCode(message), message });
  }
  if (returnCode !== 'SUCCESS') {
    throw new WechatUnknownOutcomeError('malformed', `${what}: return_code is ${JSON.stringify(returnCode)}`);
  }
  if (!verifyV2(fields, id.key, id.signType)) {
    throw new WechatUnknownOutcomeError(
      'bad_signature',
      `${what}: response signature does not verify; not trusted`,
    );
  }
  if (fields.appid !== id.appid || fields.mch_id !== id.mchId) {
    throw new WechatUnknownOutcomeError('malformed', `${what}: response names another appid or mch_id`);
  }
  const resultCode = fields.result_code;
  if (resultCode === 'SUCCESS') return fields;
  if (resultCode !== 'FAIL') {
    throw new WechatUnknownOutcomeError('malformed', `${what}: result_code is ${JSON.stringify(resultCode)}`);
  }
  const failure: WechatFailure = {
    layer: 'result',
    errCode: fields.err_code || 'RESULT_FAIL',
    message: fields.err_code_des ?? '',
  };
  throw V2_RETRYABLE_ERR_CODES.has(failure.errCode)
    ? new WechatRetryableError(failure)
    : new WechatRejectedError(failure);
}

const RETRYABLE_BILL_CODES: ReadonlySet<string> = new Set(['SYSTEMERROR', 'BILL_CREATING']);

/**
 * Judges a `downloadbill` answer: plain text on success (unsigned, maybe with a BOM, which is
 * removed), or an unsigned XML failure carrying `error_code` (《下载交易账单》).
 *
 * @example
 * interpretBillResponse(res) // '交易时间,公众账号ID,…\r\n`2024-01-01 12:05:30,…'
 */
export function interpretBillResponse(res: TransportResponse): string {
  checkStatus(res, 'downloadbill');
  const firstByte = res.body.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (firstByte === 0x3c) {
    const fields = parseOrUnknown(res.body, 'downloadbill');
    if (fields.return_code !== 'FAIL') {
      throw new WechatUnknownOutcomeError('malformed', 'downloadbill: XML answer that is not a failure');
    }
    const returnMsg = fields.return_msg ?? '';
    const failure: WechatFailure = {
      layer: 'return',
      errCode: billFailCode(returnMsg),
      message: fields.error_code ? `${returnMsg} (error_code ${fields.error_code})` : returnMsg,
    };
    throw RETRYABLE_BILL_CODES.has(failure.errCode)
      ? new WechatRetryableError(failure)
      : new WechatRejectedError(failure);
  }
  if (!isUtf8(res.body)) throw new WechatUnknownOutcomeError('malformed', 'downloadbill: bill is not UTF-8');
  const text = res.body.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `No Bill Exist` → `NO_BILL_EXIST`; Chinese-only messages → `RETURN_FAIL`. */
function billFailCode(returnMsg: string): string {
  const known = returnFailCode(returnMsg);
  if (known !== 'RETURN_FAIL') return known;
  const ascii = returnMsg
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
  return /^[\x20-\x7e]+$/.test(returnMsg) && /[A-Z]/.test(ascii)
    ? ascii.replace(/^_|_$/g, '')
    : 'RETURN_FAIL';
}

/**
 * POSTs a signed v2 request and returns the verified response fields.
 *
 * @example
 * const fields = await postV2(transport, `${baseUrl}/pay/closeorder`, { out_trade_no: 'ORDER_1' }, identity, nonce());
 */
export async function postV2(
  transport: Transport,
  url: string,
  fields: Readonly<Record<string, string | undefined>>,
  id: V2Identity,
  nonce: string,
  what: string,
): Promise<Record<string, string>> {
  const res = await transport.request(xmlRequest(url, signedRequestV2(fields, id, nonce)));
  return interpretV2Response(res, id, what);
}

export function xmlRequest(url: string, fields: Readonly<Record<string, string>>) {
  return {
    method: 'POST' as const,
    url,
    headers: { 'content-type': 'text/xml; charset=utf-8', 'user-agent': 'weapp-pay' },
    body: buildXml(fields),
  };
}
