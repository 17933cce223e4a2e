import { randomBytes } from 'node:crypto';
import type { V3Settings } from '../../config-v3.js';
import type { Transport } from '../../wechat/transport.js';
import { sendV3 } from '../../wechat/v3/call.js';
import { decryptCertificateList } from '../../wechat/v3/certificates.js';
import { createV3KeyStore } from '../../wechat/v3/keys.js';
import { verifyWechatpayHeaders } from '../../wechat/v3/sign.js';
import { type CheckResult, fail, ok } from './check.js';
import { unreachable } from './online-v2.js';

/** The API v3 settings the checks need: the service's own. */
export type V3Setup = V3Settings;

const ID = 'online.v3-signature';
const PUBLIC_KEY_FIX =
  'WECHAT_PAY_PUBLIC_KEY must be pub_key.pem and WECHAT_PAY_PUBLIC_KEY_ID its id (PUB_KEY_ID_…), both from pay.weixin.qq.com → API安全 → 微信支付公钥';

/**
 * `GET /v3/certificates` (《下载平台证书》) moves no money and exercises every v3 credential:
 * WeChat checks our signature (merchant key and serial), encrypts the certificates with the APIv3
 * key, and signs its answer with the WeChat Pay public key or a platform certificate, which we
 * verify with what is configured. The clock is judged apart (from the Date header), so the
 * signature window here is wide: a skewed clock must not read as a wrong key.
 */
export async function checkV3Signature(
  transport: Transport,
  payBaseUrl: string,
  mchid: string,
  v3: V3Setup,
  nowMs: number,
): Promise<CheckResult> {
  let res: Awaited<ReturnType<Transport['request']>>;
  try {
    res = await sendV3(
      transport,
      payBaseUrl,
      { mchid, serialNo: v3.serialNo, privateKey: v3.merchantPrivateKey },
      { method: 'GET', pathWithQuery: '/v3/certificates', what: 'certificates' },
      Math.floor(nowMs / 1000),
      randomBytes(16).toString('hex'),
      v3.payPublicKey?.id,
    );
  } catch (err) {
    return unreachable(ID, 'WECHAT_PAY_BASE_URL', payBaseUrl, err);
  }
  const body = res.body.toString('utf8');
  if (res.status === 401)
    return fail(
      ID,
      `WeChat refused our request signature (HTTP 401 ${errorCode(body)}): ${errorMessage(body)}`,
      'WECHAT_MCH_CERT_KEY must be the apiclient_key.pem of the certificate whose serial is WECHAT_MCH_CERT_SERIAL (or of WECHAT_MCH_CERT), as uploaded in pay.weixin.qq.com → API安全; a clock more than 5 minutes off also gives this',
    );
  if (res.status !== 200)
    return fail(
      ID,
      `GET /v3/certificates answered HTTP ${res.status} ${errorCode(body)}`,
      'check WECHAT_MCHID and WECHAT_API_V3_KEY',
    );
  let store: ReturnType<typeof createV3KeyStore>;
  try {
    store = createV3KeyStore(v3.payPublicKey ? { publicKey: v3.payPublicKey } : {});
  } catch (err) {
    return fail(ID, (err as Error).message, PUBLIC_KEY_FIX);
  }
  try {
    store.addCertificates(decryptCertificateList(body, v3.apiV3Key));
  } catch {
    return fail(
      ID,
      'the platform certificates do not decrypt with WECHAT_API_V3_KEY',
      'set WECHAT_API_V3_KEY to the 32-character APIv3 key (pay.weixin.qq.com → API安全 → APIv3密钥), not the v2 key',
    );
  }
  const verified = verifyWechatpayHeaders({
    headers: res.headers,
    body: res.body,
    keys: store.resolve,
    nowSeconds: Math.floor(nowMs / 1000),
    toleranceSeconds: 10 * 365 * 86400,
  });
  if (verified.ok)
    return ok(ID, `v3 signatures verify both ways (WeChat Pay signed with ${verified.serial})`);
  const serial = res.headers['wechatpay-serial'] ?? '(none)';
  return fail(
    ID,
    `WeChat's answer does not verify (${verified.reason}, Wechatpay-Serial ${serial})`,
    v3.payPublicKey
      ? PUBLIC_KEY_FIX
      : 'this merchant signs with a WeChat Pay public key: set WECHAT_PAY_PUBLIC_KEY and WECHAT_PAY_PUBLIC_KEY_ID (pay.weixin.qq.com → API安全 → 微信支付公钥)',
  );
}

function errorCode(body: string): string {
  try {
    return String((JSON.parse(body) as { code?: unknown }).code ?? '');
  } catch {
    return '';
  }
}

function errorMessage(body: string): string {
  try {
    return String((JSON.parse(body) as { message?: unknown }).message ?? '');
  } catch {
    return body.slice(0, 120);
  }
}
