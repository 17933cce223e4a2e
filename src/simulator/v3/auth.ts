import { type KeyObject, X509Certificate } from 'node:crypto';
import { certificateSerial } from '../../wechat/v3/keys.js';
import { parseAuthorization, v3RequestMessage, verifyV3 } from '../../wechat/v3/sign.js';
import type { MerchantConfig } from '../config.js';
import type { SimContext } from '../sim-context.js';
import { type V3Outcome, v3Error } from './outcomes.js';

/**
 * WeChat's check of a v3 request's `Authorization` (《签名生成》): the
 * merchant exists, the `serial_no` is its API certificate's, the timestamp is within
 * `v3TimestampToleranceSeconds` of now (either way), and the signature over
 * `METHOD\nPATH?QUERY\nTS\nNONCE\nBODY\n` verifies with the certificate's public key.
 */

interface MerchantCert {
  serial: string;
  publicKey: KeyObject;
}

const certs = new WeakMap<MerchantConfig, MerchantCert>();

function merchantCert(merchant: MerchantConfig): MerchantCert | undefined {
  if (!merchant.cert) return undefined;
  let found = certs.get(merchant);
  if (!found) {
    found = {
      serial: certificateSerial(merchant.cert),
      publicKey: new X509Certificate(merchant.cert).publicKey,
    };
    certs.set(merchant, found);
  }
  return found;
}

const signError = (message: string) => ({ refusal: v3Error(401, 'SIGN_ERROR', message) });

/** The merchant a correctly signed request comes from, or WeChat's refusal. */
export function authenticate(
  ctx: SimContext,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
  rawBody: string,
): { merchant: MerchantConfig } | { refusal: V3Outcome } {
  const header = request.headers.authorization;
  const auth = parseAuthorization(Array.isArray(header) ? header[0] : header);
  if (!auth) return signError('Authorization 缺失或格式错误，应为 WECHATPAY2-SHA256-RSA2048 签名');
  const merchant = ctx.state.merchants.get(auth.mchid);
  if (!merchant) return { refusal: v3Error(400, 'MCH_NOT_EXISTS', '商户号不存在') };
  const cert = merchantCert(merchant);
  if (!cert) return signError('商户未配置API证书，无法验证签名');
  if (auth.serialNo.toUpperCase() !== cert.serial) return signError('证书序列号与商户API证书不符');
  const ts = Number(auth.timestamp);
  const skew = Math.abs(Math.floor(ctx.clock.now() / 1000) - ts);
  if (!/^[0-9]{1,12}$/.test(auth.timestamp) || skew > ctx.behaviour.v3TimestampToleranceSeconds)
    return signError('请求时间戳与当前时间相差过大');
  const message = v3RequestMessage(request.method, request.url, auth.timestamp, auth.nonceStr, rawBody);
  if (!verifyV3(message, auth.signature, cert.publicKey)) return signError('签名错误');
  return { merchant };
}

/** A body or query `mchid` must be the one that signed. */
export function mchidMismatch(merchant: MerchantConfig, mchid: unknown): V3Outcome | undefined {
  if (mchid === undefined) return undefined;
  return mchid === merchant.mchId ? undefined : signError('请求中的mchid与签名的商户号不一致').refusal;
}
