import { createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * API v3 signatures (RSA-SHA256, PKCS#1 v1.5), used alike by the service, the simulator and the
 * tests, so that every party signs through the production path ("API v3 签名生成", "签名验证").
 *
 * Test vectors (keys and inputs in `test/fixtures/v3-keys.ts`):
 * - `POST /v3/pay/transactions/jsapi`, ts `1704081930`, nonce `593BEC0C930BF1AFEB40B4A08C8FB242`,
 *   the JSAPI order body → `SmgvAWO/7IZKVWjT…ERPU/FLVg==`
 * - `GET /v3/pay/transactions/out-trade-no/ORDER_20240101_0001?mchid=1900000109`, same ts and
 *   nonce, empty body → `cadpddyB0AGc2jQK…5iqDg6eWWb3w==`
 * RSA PKCS#1 v1.5 is deterministic, so these exact strings come out of any correct signer.
 */

export const V3_SIGNATURE_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** A signature starting with this is WeChat probing whether we verify at all ("签名探测"). */
export const SIGN_PROBE_PREFIX = 'WECHATPAY/SIGNTEST/';

/** The replay window WeChat's SDKs use: five minutes either side of our clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type V3Key = KeyObject | string;

/** Picks the public key for a `Wechatpay-Serial` (certificate serial or `PUB_KEY_ID_…`). */
export type V3KeyResolver = (serial: string) => KeyObject | undefined;

export type V3VerifyFailure =
  | 'MISSING_HEADERS'
  | 'SIGN_PROBE'
  | 'TIMESTAMP_OUT_OF_WINDOW'
  | 'UNKNOWN_SERIAL'
  | 'BAD_SIGNATURE';

export type V3VerifyResult = { ok: true; serial: string } | { ok: false; reason: V3VerifyFailure };

/**
 * The five lines a merchant signs, each ending in `\n` (the body line too, even when empty).
 *
 * @example
 * v3RequestMessage('GET', '/v3/certificates', 1704081930, 'N0NCE', '')
 * // 'GET\n/v3/certificates\n1704081930\nN0NCE\n\n'
 */
export function v3RequestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: number | string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * The three lines WeChat signs in a response or a notification (`204`: empty body).
 *
 * @example
 * v3ResponseMessage(1704081931, 'b8f1…', '') // '1704081931\nb8f1…\n\n'
 */
export function v3ResponseMessage(timestamp: number | string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * Base64 RSA-SHA256 signature of `message` (UTF-8).
 *
 * @example
 * signV3(v3RequestMessage('POST', '/v3/pay/transactions/jsapi', ts, nonce, body), merchantPrivateKeyPem)
 */
export function signV3(message: string, privateKey: V3Key): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Does `signatureBase64` sign `message` (a string is taken as UTF-8) under `publicKey`? Anything malformed (bad base64, a key
 * that is not a public RSA key, a signature of the wrong length) is a plain `false`.
 *
 * @example
 * verifyV3(v3ResponseMessage(ts, nonce, body), headers['wechatpay-signature'], platformPublicKey) // true
 */
export function verifyV3(message: string | Buffer, signatureBase64: string, publicKey: V3Key): boolean {
  if (typeof signatureBase64 !== 'string' || signatureBase64.length % 4 !== 0) return false;
  if (!BASE64.test(signatureBase64)) return false;
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return createVerify('RSA-SHA256')
      .update(typeof message === 'string' ? Buffer.from(message, 'utf8') : message)
      .verify(key, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

export interface V3AuthorizationFields {
  mchid: string;
  serialNo: string;
  nonce: string;
  timestamp: number | string;
  signature: string;
}

/**
 * The `Authorization` header value for a signed request.
 *
 * @example
 * authorizationHeader({ mchid: '1900000109', serialNo: '5E3A…', nonce: 'N', timestamp: 1704081930, signature: 'S' })
 * // 'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="N",signature="S",timestamp="1704081930",serial_no="5E3A…"'
 */
export function authorizationHeader(fields: V3AuthorizationFields): string {
  return (
    `${V3_SIGNATURE_SCHEME} mchid="${fields.mchid}",nonce_str="${fields.nonce}",` +
    `signature="${fields.signature}",timestamp="${fields.timestamp}",serial_no="${fields.serialNo}"`
  );
}

export interface ParsedAuthorization {
  mchid: string;
  nonceStr: string;
  signature: string;
  timestamp: string;
  serialNo: string;
}

const PAIR = /^\s*([a-z_]+)="([^"]*)"\s*$/;

/**
 * Reads an `Authorization` header back (the simulator's side). The pairs may come in any order,
 * as SDKs differ; a missing, repeated or unknown pair, or another scheme, gives `undefined`.
 *
 * @example
 * parseAuthorization('WECHATPAY2-SHA256-RSA2048 serial_no="S",mchid="1",timestamp="1",nonce_str="N",signature="X"')
 * // { mchid: '1', nonceStr: 'N', signature: 'X', timestamp: '1', serialNo: 'S' }
 */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (typeof header !== 'string' || !header.startsWith(`${V3_SIGNATURE_SCHEME} `)) return undefined;
  const pairs = new Map<string, string>();
  for (const part of header.slice(V3_SIGNATURE_SCHEME.length + 1).split(',')) {
    const match = PAIR.exec(part);
    if (!match || pairs.has(match[1]!)) return undefined;
    pairs.set(match[1]!, match[2]!);
  }
  const mchid = pairs.get('mchid');
  const nonceStr = pairs.get('nonce_str');
  const signature = pairs.get('signature');
  const timestamp = pairs.get('timestamp');
  const serialNo = pairs.get('serial_no');
  if (pairs.size !== 5 || !mchid || !nonceStr || !signature || !timestamp || !serialNo) return undefined;
  return { mchid, nonceStr, signature, timestamp, serialNo };
}

export interface SignRequestV3Input {
  method: string;
  pathWithQuery: string;
  body: string;
  mchid: string;
  serialNo: string;
  privateKey: V3Key;
  timestamp: number;
  nonce: string;
}

/**
 * Signs a request and returns its `Authorization` header value.
 *
 * @example
 * const authorization = signRequestV3({ method: 'GET', pathWithQuery: '/v3/certificates', body: '',
 *   mchid: '1900000109', serialNo, privateKey, timestamp: 1704081930, nonce: createNonce() });
 */
export function signRequestV3(input: SignRequestV3Input): string {
  const message = v3RequestMessage(
    input.method,
    input.pathWithQuery,
    input.timestamp,
    input.nonce,
    input.body,
  );
  return authorizationHeader({
    mchid: input.mchid,
    serialNo: input.serialNo,
    nonce: input.nonce,
    timestamp: input.timestamp,
    signature: signV3(message, input.privateKey),
  });
}

export interface SignResponseV3Input {
  body: string;
  privateKey: V3Key;
  serial: string;
  timestamp: number;
  nonce: string;
}

/**
 * The headers WeChat puts on a response or a notification (the simulator's side, and tests').
 *
 * @example
 * res.writeHead(200, { 'content-type': 'application/json',
 *   ...signResponseV3({ body, privateKey: platformKey, serial: 'PUB_KEY_ID_…', timestamp, nonce }) });
 */
export function signResponseV3(input: SignResponseV3Input): Record<string, string> {
  return {
    'Wechatpay-Timestamp': String(input.timestamp),
    'Wechatpay-Nonce': input.nonce,
    'Wechatpay-Signature': signV3(
      v3ResponseMessage(input.timestamp, input.nonce, input.body),
      input.privateKey,
    ),
    'Wechatpay-Serial': input.serial,
    'Wechatpay-Signature-Type': V3_SIGNATURE_SCHEME,
  };
}

export interface VerifyWechatpayHeadersInput {
  /** Lower-case names, as Node's `IncomingHttpHeaders` and our transport give them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body exactly as received. */
  body: string | Buffer;
  keys: V3KeyResolver;
  nowSeconds: number;
  toleranceSeconds?: number;
}

const DIGITS = /^\d{1,12}$/;

/**
 * Verifies the `Wechatpay-*` headers of a response or notification against its raw body.
 * Checks, in order: not a signature probe; headers present; timestamp within the window on
 * either side of `nowSeconds`; a key known for `Wechatpay-Serial`; the signature. Never throws.
 *
 * @example
 * const check = verifyWechatpayHeaders({ headers: req.headers, body: rawBody, keys: store.resolve,
 *   nowSeconds: Math.floor(clock.now() / 1000) });
 * if (!check.ok && check.reason === 'SIGN_PROBE') log.info('WeChat signature probe');
 */
export function verifyWechatpayHeaders(input: VerifyWechatpayHeadersInput): V3VerifyResult {
  const timestamp = headerValue(input.headers, 'wechatpay-timestamp');
  const nonce = headerValue(input.headers, 'wechatpay-nonce');
  const signature = headerValue(input.headers, 'wechatpay-signature');
  const serial = headerValue(input.headers, 'wechatpay-serial');
  // A probe is named as such whatever else it carries, so it is never logged as an attack.
  if (signature?.startsWith(SIGN_PROBE_PREFIX)) return { ok: false, reason: 'SIGN_PROBE' };
  if (!timestamp || !nonce || !signature || !serial) return { ok: false, reason: 'MISSING_HEADERS' };
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!DIGITS.test(timestamp) || Math.abs(input.nowSeconds - Number(timestamp)) > tolerance) {
    return { ok: false, reason: 'TIMESTAMP_OUT_OF_WINDOW' };
  }
  let key: KeyObject | undefined;
  try {
    key = input.keys(serial);
  } catch {
    key = undefined;
  }
  if (!key) return { ok: false, reason: 'UNKNOWN_SERIAL' };
  // WeChat signs bytes: a Buffer body is verified as received, never re-decoded.
  const message =
    typeof input.body === 'string'
      ? v3ResponseMessage(timestamp, nonce, input.body)
      : Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'), input.body, Buffer.from('\n')]);
  if (!verifyV3(message, signature, key)) {
    return { ok: false, reason: 'BAD_SIGNATURE' };
  }
  return { ok: true, serial };
}

function headerValue(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  // A repeated header is ambiguous: refuse it rather than pick one.
  return typeof value === 'string' && value !== '' ? value : undefined;
}
