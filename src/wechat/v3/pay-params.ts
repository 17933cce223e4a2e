import type { Clock } from '../../clock.js';
import { createNonce } from '../v2/fields.js';
import { signV3, type V3Key, verifyV3 } from './sign.js';

/**
 * The parameters of `wx.requestPayment` for a v3 order (《JSAPI调起支付》 / 《小程序调起支付》).
 *
 * Signed message: `appId\ntimeStamp\nnonceStr\npackage\n` (four lines, the last one ended too),
 * RSA-SHA256 with the MERCHANT private key; `signType` is `RSA` and is not signed. `timeStamp`
 * is a string of seconds.
 *
 * Vector (`VECTOR_H` in `test/fixtures/v3-keys.ts`): appId `wx1234567890abcdef`, timeStamp
 * `1704081930`, nonceStr `Xk3pQ9zT2vLm8RsW`, package
 * `prepay_id=wx01120530123456789abcdef0123456700`, merchant test key
 * → `jbY0c6H3ZVrtNG57…juS081saOhR3mw==`.
 */

export interface V3PayParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface V3PayParamsInput {
  appid: string;
  prepayId: string;
  privateKey: V3Key;
  /** Seconds, as a string. Give this or `clock`. */
  timeStamp?: string;
  clock?: Clock;
  nonceStr?: string;
}

const payMessage = (appid: string, timeStamp: string, nonceStr: string, pkg: string) =>
  `${appid}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;

/**
 * @example
 * v3PayParams({ appid: 'wx1234567890abcdef', prepayId: 'wx01120530123456789abcdef0123456700',
 *   privateKey: merchantKeyPem, timeStamp: '1704081930', nonceStr: 'Xk3pQ9zT2vLm8RsW' })
 * // { timeStamp: '1704081930', nonceStr: 'Xk3pQ9zT2vLm8RsW',
 * //   package: 'prepay_id=wx01120530123456789abcdef0123456700', signType: 'RSA', paySign: 'jbY0c6H3…' }
 */
export function v3PayParams(input: V3PayParamsInput): V3PayParams {
  const timeStamp =
    input.timeStamp ?? (input.clock ? String(Math.floor(input.clock.now() / 1000)) : undefined);
  if (timeStamp === undefined) throw new TypeError('v3PayParams needs a timeStamp or a clock');
  const nonceStr = input.nonceStr ?? createNonce();
  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = signV3(payMessage(input.appid, timeStamp, nonceStr, pkg), input.privateKey);
  return { timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
}

export interface V3PaySignInput {
  appid: string;
  timeStamp: unknown;
  nonceStr: unknown;
  package: unknown;
  paySign: unknown;
  signType?: unknown;
}

/**
 * Checks parameters the way the WeChat client does before it shows the cashier (the simulator's
 * cashier uses it): a 10-digit seconds `timeStamp`, a `package` of the form `prepay_id=…`, a
 * `signType` of `RSA` when given, and `paySign` under the merchant's public key. Anything off is
 * `false`, never an exception.
 *
 * @example
 * verifyV3PaySign({ appid: 'wx1234567890abcdef', ...params }, merchantPublicKeyPem) // true
 */
export function verifyV3PaySign(params: V3PaySignInput, publicKey: V3Key): boolean {
  if (typeof params !== 'object' || params === null) return false;
  const { appid, timeStamp, nonceStr, paySign, signType } = params;
  const pkg = params.package;
  if (typeof appid !== 'string' || typeof timeStamp !== 'string' || !/^\d{10}$/.test(timeStamp)) return false;
  if (typeof nonceStr !== 'string' || nonceStr === '' || nonceStr.length > 32) return false;
  if (typeof pkg !== 'string' || !/^prepay_id=\S+$/.test(pkg)) return false;
  if (signType !== undefined && signType !== 'RSA') return false;
  if (typeof paySign !== 'string') return false;
  return verifyV3(payMessage(appid, timeStamp, nonceStr, pkg), paySign, publicKey);
}
