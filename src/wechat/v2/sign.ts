import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * API v2 signatures (MD5 and HMAC-SHA256), used alike by the service, the simulator and the
 * tests, so that every party signs through the production path.
 *
 * Test vectors (WeChat's own example in 《签名算法》):
 * - fields `appid=wxd930ea5d5a258f4f, mch_id=10000100, device_info=1000, body=test,
 *   nonce_str=ibuaiVcKdpRxkhJA`, key `192006250b4c09247ec02edce69f6a2d`
 * - MD5 → `9A0A8659F005D6984697E2CA0A9CF3B7`
 * - HMAC-SHA256 → `6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6`
 */

export type V2SignType = 'MD5' | 'HMAC-SHA256';

export const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256'];

/** A flat v2 message: every value is a string, exactly as it travels in the XML. */
export type V2Fields = Readonly<Record<string, string>>;

export function isV2SignType(value: unknown): value is V2SignType {
  return value === 'MD5' || value === 'HMAC-SHA256';
}

/**
 * The string both parties sign: every field but `sign` whose value is not empty, keys sorted
 * by byte order, joined as `k=v&k=v`. Unknown fields are included: WeChat adds fields at will,
 * and they are covered by its signature.
 *
 * @example
 * canonicalV2({ b: '2', a: '1', sign: 'X', empty: '' }) // 'a=1&b=2'
 */
export function canonicalV2(fields: V2Fields): string {
  // Keys are ASCII by protocol, so comparing UTF-16 code units (`>`) is byte order. A message has
  // about twenty fields: an insertion sort as they are collected beats Array#sort's setup.
  const keys: string[] = [];
  for (const key in fields) {
    const value = fields[key];
    if (key === 'sign' || value === '' || value === undefined) continue;
    let at = keys.length;
    keys.push(key);
    while (at > 0 && (keys[at - 1] as string) > key) {
      keys[at] = keys[at - 1] as string;
      at--;
    }
    keys[at] = key;
  }
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out += i === 0 ? `${key}=${fields[key]}` : `&${key}=${fields[key]}`;
  }
  return out;
}

/**
 * Signs a v2 message: upper-case hex, 32 characters for MD5, 64 for HMAC-SHA256.
 *
 * @example
 * signV2({ appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', device_info: '1000', body: 'test',
 *          nonce_str: 'ibuaiVcKdpRxkhJA' }, '192006250b4c09247ec02edce69f6a2d')
 * // '9A0A8659F005D6984697E2CA0A9CF3B7'
 */
export function signV2(fields: V2Fields, key: string, signType: V2SignType = 'MD5'): string {
  const message = `${canonicalV2(fields)}&key=${key}`;
  const digest =
    signType === 'HMAC-SHA256'
      ? createHmac('sha256', key).update(message, 'utf8').digest('hex')
      : createHash('md5').update(message, 'utf8').digest('hex');
  return digest.toUpperCase();
}

/**
 * Returns the fields with `sign` added (and `sign_type` when it is not the MD5 default, because
 * `sign_type` is itself a signed field and WeChat infers the algorithm from it).
 *
 * @example
 * withSignV2({ appid: 'wx…', nonce_str: '…' }, key, 'HMAC-SHA256') // { …, sign_type: 'HMAC-SHA256', sign: '…' }
 */
export function withSignV2(
  fields: V2Fields,
  key: string,
  signType: V2SignType = 'MD5',
): Record<string, string> {
  const out: Record<string, string> = { ...fields };
  delete out.sign;
  if (signType === 'HMAC-SHA256') out.sign_type = signType;
  out.sign = signV2(out, key, signType);
  return out;
}

/**
 * The algorithm a received message claims: its `sign_type` field when present, otherwise the
 * length of `sign` (32 → MD5, 64 → HMAC-SHA256), as WeChat's own samples infer it.
 * `undefined` when the message names an algorithm we do not know.
 */
export function signTypeOfV2(fields: V2Fields): V2SignType | undefined {
  const declared = fields.sign_type;
  if (declared !== undefined && declared !== '') return isV2SignType(declared) ? declared : undefined;
  return fields.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5';
}

/**
 * Verifies `fields.sign` in constant time. Anything unexpected (no sign, wrong length, lower
 * case, an unknown `sign_type`, a `sign_type` other than the one required) is a plain `false`,
 * never an exception.
 *
 * @param expected when given, the message must be signed with this algorithm. Pass it wherever
 *   the algorithm is known (the response to our own request, a notification for an order we
 *   signed), so a downgrade from HMAC-SHA256 to MD5 is refused.
 *
 * @example
 * verifyV2({ ...fields, sign: '9A0A8659F005D6984697E2CA0A9CF3B7' }, key) // true
 * verifyV2({ ...fields, sign: '9a0a8659f005d6984697e2ca0a9cf3b7' }, key) // false
 */
export function verifyV2(fields: V2Fields, key: string, expected?: V2SignType): boolean {
  const given = fields.sign;
  if (typeof given !== 'string' || given === '') return false;
  const signType = signTypeOfV2(fields);
  if (signType === undefined || (expected !== undefined && signType !== expected)) return false;
  const want = Buffer.from(signV2(fields, key, signType), 'utf8');
  const got = Buffer.from(given, 'utf8');
  // timingSafeEqual throws on unequal lengths; a wrong length is simply a wrong signature.
  return got.length === want.length && timingSafeEqual(got, want);
}
