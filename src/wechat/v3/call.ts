import {
  type WechatFailure,
  WechatRejectedError,
  WechatRetryableError,
  WechatUnknownOutcomeError,
} from '../errors.js';
import type { Transport, TransportResponse } from '../transport.js';
import { parseJson } from './responses.js';
import { signRequestV3, type V3Key, type V3VerifyResult } from './sign.js';

/**
 * One v3 call: sign the request, send it, and turn the answer into a trusted body or one of the
 * three typed outcomes (see errors.ts). Nothing in a response is believed, error bodies and
 * `204`s included, before its `Wechatpay-*` signature has verified ("签名验证").
 *
 * Error mapping (《错误码》 tables of the v3 APIs): WeChat's `code` decides first, spelled either
 * way (`SYSTEM_ERROR`/`SYSTEMERROR`, `ORDER_NOT_EXIST`/`ORDERNOTEXIST`); an unlisted code falls
 * back on the HTTP status: 429 and 5xx retryable, other 4xx rejected.
 */

export interface V3Identity {
  mchid: string;
  serialNo: string;
  privateKey: V3Key;
}

/** Codes, written without underscores, after which the same call may be sent again. */
const RETRYABLE = new Set(['SYSTEMERROR', 'BANKERROR', 'FREQUENCYLIMITED', 'BIZERRNEEDRETRY', 'RULELIMIT']);

/**
 * Every code of the v3 tables, keyed without underscores, with the spelling we report (the live
 * API's). A listed code is judged by {@link RETRYABLE}; an unlisted one by its HTTP status.
 */
const CANONICAL: Readonly<Record<string, string>> = {
  SYSTEMERROR: 'SYSTEM_ERROR',
  BANKERROR: 'BANK_ERROR',
  ORDERNOTEXIST: 'ORDER_NOT_EXIST',
  NOAUTH: 'NO_AUTH',
  RULELIMIT: 'RULE_LIMIT',
  NOTENOUGH: 'NOT_ENOUGH',
  ACCOUNTERROR: 'ACCOUNT_ERROR',
  FREQUENCYLIMITED: 'FREQUENCY_LIMITED',
  BIZERRNEEDRETRY: 'BIZ_ERR_NEED_RETRY',
  PARAMERROR: 'PARAM_ERROR',
  INVALIDREQUEST: 'INVALID_REQUEST',
  SIGNERROR: 'SIGN_ERROR',
  ORDERCLOSED: 'ORDER_CLOSED',
  RESOURCENOTEXISTS: 'RESOURCE_NOT_EXISTS',
  OUTTRADENOUSED: 'OUT_TRADE_NO_USED',
  TRADEERROR: 'TRADE_ERROR',
  MCHNOTEXISTS: 'MCH_NOT_EXISTS',
  APPIDMCHIDNOTMATCH: 'APPID_MCHID_NOT_MATCH',
  OPENIDMISMATCH: 'OPENID_MISMATCH',
  INVALIDTRANSACTIONID: 'INVALID_TRANSACTIONID',
  USERACCOUNTABNORMAL: 'USER_ACCOUNT_ABNORMAL',
  REQUESTBLOCKED: 'REQUEST_BLOCKED',
  ORDERPAID: 'ORDERPAID',
};

/**
 * One spelling per WeChat error code: underscores as the live API writes them, whichever way
 * the answer spelled it. Unknown codes come back upper-cased, otherwise untouched.
 *
 * @example
 * normalizeV3ErrorCode('ORDERNOTEXIST') // 'ORDER_NOT_EXIST'
 * normalizeV3ErrorCode('system_error') // 'SYSTEM_ERROR'
 */
export function normalizeV3ErrorCode(code: string): string {
  const upper = code.toUpperCase();
  return CANONICAL[upper.replace(/_/g, '')] ?? upper;
}

/**
 * The typed error for a verified non-2xx answer.
 *
 * @example
 * v3ErrorFor(500, '{"code":"SYSTEMERROR","message":"系统繁忙"}') // WechatRetryableError, code SYSTEM_ERROR
 */
export function v3ErrorFor(status: number, body: string): WechatRejectedError | WechatRetryableError {
  const parsed = parseJson(body) as { code?: unknown; message?: unknown; detail?: unknown } | undefined;
  const given = typeof parsed?.code === 'string' && parsed.code !== '' ? parsed.code : `HTTP_${status}`;
  const failure: WechatFailure = {
    layer: 'result',
    errCode: normalizeV3ErrorCode(given),
    message: typeof parsed?.message === 'string' ? parsed.message : '',
    httpStatus: status,
    ...(parsed?.detail !== undefined ? { detail: parsed.detail } : {}),
  };
  const squashed = failure.errCode.replace(/_/g, '');
  const retry = RETRYABLE.has(squashed) || (!(squashed in CANONICAL) && (status === 429 || status >= 500));
  return retry ? new WechatRetryableError(failure) : new WechatRejectedError(failure);
}

/** An answer we cannot read: we do not know what WeChat did. */
export function malformed(what: string, detail: string): WechatUnknownOutcomeError {
  return new WechatUnknownOutcomeError('malformed', `${what}: ${detail}`);
}

/**
 * A verified body that must be a JSON object.
 *
 * @example
 * jsonObject('{"prepay_id":"wx…"}', 'jsapi').prepay_id // 'wx…'
 */
export function jsonObject(body: string, what: string): Record<string, unknown> {
  const value = parseJson(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(what, 'body is not a JSON object');
  }
  return value as Record<string, unknown>;
}

export interface V3Request {
  method: 'GET' | 'POST';
  /** Path with query, exactly as signed and sent. */
  pathWithQuery: string;
  /** JSON body for POST; `undefined` for GET. */
  body?: Record<string, unknown>;
  what: string;
}

/**
 * The headers of a signed request. `Wechatpay-Serial` names the key we verify with, which is
 * how WeChat picks the key to sign its answer during the public-key migration.
 *
 * @example
 * v3RequestHeaders(identity, { method: 'GET', pathWithQuery: '/v3/certificates', what: 'certificates' }, '', ts, nonce)
 */
export function v3RequestHeaders(
  id: V3Identity,
  req: Pick<V3Request, 'method' | 'pathWithQuery'>,
  body: string,
  timestamp: number,
  nonce: string,
  wechatpaySerial?: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'weapp-pay',
    authorization: signRequestV3({ ...req, body, ...id, timestamp, nonce }),
  };
  if (body !== '') headers['content-type'] = 'application/json';
  if (wechatpaySerial) headers['wechatpay-serial'] = wechatpaySerial;
  return headers;
}

const VERIFY_MESSAGES: Readonly<Record<Exclude<V3VerifyResult, { ok: true }>['reason'], string>> = {
  MISSING_HEADERS: 'carries no Wechatpay-* signature headers',
  SIGN_PROBE: 'carries a signature probe instead of a signature',
  TIMESTAMP_OUT_OF_WINDOW: 'is signed more than the allowed window away from our clock',
  UNKNOWN_SERIAL: 'is signed with a key we do not know (Wechatpay-Serial)',
  BAD_SIGNATURE: 'signature does not verify',
};

/**
 * Judges a response whose signature check is `verified`: an unverified answer is an unknown
 * outcome whatever its status; a verified 2xx gives its body; a verified error its typed error.
 *
 * @example
 * const body = interpretV3Response(res, verified, 'jsapi'); // '{"prepay_id":"wx…"}'
 */
export function interpretV3Response(res: TransportResponse, verified: V3VerifyResult, what: string): string {
  const body = res.body.toString('utf8');
  if (!verified.ok) {
    // An unsigned error page is most likely a proxy or gateway: say the status, not "forgery".
    const unsignedError = verified.reason === 'MISSING_HEADERS' && (res.status < 200 || res.status > 299);
    throw new WechatUnknownOutcomeError(
      unsignedError ? 'http_status' : 'bad_signature',
      `${what}: HTTP ${res.status} response ${VERIFY_MESSAGES[verified.reason]}; not trusted`,
      { httpStatus: res.status },
    );
  }
  if (res.status >= 200 && res.status <= 299) return body;
  throw v3ErrorFor(res.status, body);
}

/**
 * Sends a signed request and returns the raw response (the caller verifies it).
 *
 * @example
 * const res = await sendV3(transport, baseUrl, identity, req, nowSeconds(), nonce());
 */
export async function sendV3(
  transport: Transport,
  baseUrl: string,
  id: V3Identity,
  req: V3Request,
  timestamp: number,
  nonce: string,
  wechatpaySerial?: string,
): Promise<TransportResponse> {
  const body = req.body === undefined ? '' : JSON.stringify(req.body);
  return transport.request({
    method: req.method,
    url: `${baseUrl}${req.pathWithQuery}`,
    headers: v3RequestHeaders(id, req, body, timestamp, nonce, wechatpaySerial),
    ...(body !== '' ? { body } : {}),
  });
}
