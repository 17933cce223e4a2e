import { createV3KeyStore } from '../../wechat/v3/keys.js';
import { type CheckResult, fail, ok } from './check.js';
import type { V3Setup } from './online-v3.js';

/**
 * The WeChat Pay public key and its id, judged by the key store the service verifies with: an id
 * without `PUB_KEY_ID_` or an unreadable key is refused there, and named here.
 */
export function checkPayPublicKey(v3: V3Setup): CheckResult {
  const id = 'settings.pay-public-key';
  if (!v3.payPublicKey)
    return ok(
      id,
      'no WeChat Pay public key: platform-certificate mode (certificates fetched from GET /v3/certificates)',
    );
  try {
    createV3KeyStore({ publicKey: v3.payPublicKey });
    return ok(id, `WECHAT_PAY_PUBLIC_KEY is readable; its id is ${v3.payPublicKey.id}`);
  } catch (err) {
    return fail(
      id,
      `WECHAT_PAY_PUBLIC_KEY_ID / WECHAT_PAY_PUBLIC_KEY refused: ${(err as Error).message}`,
      'copy the id shown next to the key in pay.weixin.qq.com → API安全 → 微信支付公钥, whole: WECHAT_PAY_PUBLIC_KEY_ID=PUB_KEY_ID_0119000001092024010100000000000001; WECHAT_PAY_PUBLIC_KEY is pub_key.pem',
    );
  }
}
