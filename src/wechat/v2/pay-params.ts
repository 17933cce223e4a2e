import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { createNonce } from './fields.js';
import { isV2SignType, signV2, type V2SignType } from './sign.js';

/**
 * The parameters of `wx.requestPayment` for a v2 order (《小程序调起支付API》).
 *
 * Signed set: exactly `appId` (capital I), `nonceStr`, `package`, `signType`, `timeStamp`, with
 * the v2 key and the algorithm named in `signType`, which must be the one the order was placed
 * with. `timeStamp` is a string of SECONDS: milliseconds, a number type, or re-using the
 * unifiedorder `sign` all end in "支付验证签名失败".
 *
 * Vectors (the first is WeChat's own example in 《小程序调起支付API》):
 * - key `qazwsxedcrfvtgbyhnujmikolp111111`, appId `wxd678efh567hg6787`, timeStamp `1490840662`,
 *   nonceStr `5K8264ILTKCH16CQ2502SI8ZNMTM67VS`, package `prepay_id=wx2017033010242291fcfe0db70013231072`,
 *   MD5 → `22D9B4E54AB1950F51E0649E8810ACD6`
 * - key `SimulatorTestKey0123456789abcdef`, appId `wx1234567890abcdef`, timeStamp `1704081930`,
 *   nonceStr `Xk3pQ9zT2vLm8RsW`, package `prepay_id=wx01120530123456789abcdef0123456700`:
 *   MD5 → `B2BEB36D6A9357B39127103420BBD362`,
 *   HMAC-SHA256 → `0138DEDEEA66279AC679A698670745FD98B7F955F090EBE913453FE32E16BA5F`
 */

export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: V2SignType;
  paySign: string;
}

export interface RequestPaymentInput {
  appid: string;
  prepayId: string;
  key: string;
  signType: V2SignType;
  clock: Clock;
  nonceStr?: string;
}

function paySignOf(appid: string, p: Omit<RequestPaymentParams, 'paySign'>, key: string): string {
  return signV2(
    { appId: appid, nonceStr: p.nonceStr, package: p.package, signType: p.signType, timeStamp: p.timeStamp },
    key,
    p.signType,
  );
}

/**
 * @example
 * requestPaymentParams({ appid: 'wx1234567890abcdef', prepayId: 'wx01120530123456789abcdef0123456700',
 *   key: 'SimulatorTestKey0123456789abcdef', signType: 'MD5', clock: createManualClock(1704081930_000),
 *   nonceStr: 'Xk3pQ9zT2vLm8RsW' })
 * // { timeStamp: '1704081930', nonceStr: 'Xk3pQ9zT2vLm8RsW',
 * //   package: 'prepay_id=wx01120530123456789abcdef0123456700', signType: 'MD5',
 * //   paySign: 'B2BEB36D6A9357B39127103420BBD362' }
 */
export function requestPaymentParams(input: RequestPaymentInput): RequestPaymentParams {
  const unsigned = {
    timeStamp: String(Math.floor(input.clock.now() / 1000)),
    nonceStr: input.nonceStr ?? createNonce(),
    package: `prepay_id=${input.prepayId}`,
    signType: input.signType,
  };
  return { ...unsigned, paySign: paySignOf(input.appid, unsigned, input.key) };
}

/**
 * Checks parameters the way the WeChat client does before it shows the cashier: a 10-digit
 * seconds `timeStamp` string, a `package` of the form `prepay_id=…`, a known `signType`, and a
 * `paySign` over the five fields (constant time). Anything off is `false`, never an exception.
 * The simulator's cashier uses it.
 *
 * @example
 * verifyRequestPaymentParams(params, 'wx1234567890abcdef', key) // true
 */
export function verifyRequestPaymentParams(params: unknown, appid: string, key: string): boolean {
  if (typeof params !== 'object' || params === null) return false;
  const p = params as Record<string, unknown>;
  const { timeStamp, nonceStr, signType, paySign } = p;
  const pkg = p.package;
  if (typeof timeStamp !== 'string' || !/^\d{10}$/.test(timeStamp)) return false;
  if (typeof nonceStr !== 'string' || nonceStr === '' || nonceStr.length > 32) return false;
  if (typeof pkg !== 'string' || !/^prepay_id=\S+$/.test(pkg)) return false;
  if (!isV2SignType(signType) || typeof paySign !== 'string') return false;
  const want = Buffer.from(paySignOf(appid, { timeStamp, nonceStr, package: pkg, signType }, key));
  const got = Buffer.from(paySign);
  return got.length === want.length && timingSafeEqual(got, want);
}
