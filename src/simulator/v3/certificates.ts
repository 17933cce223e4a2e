import { encryptAeadAes256Gcm } from '../../wechat/v3/aead.js';
import { nonceOf, type V3Api, type V3Context } from './endpoint.js';
import { json, v3Error } from './outcomes.js';
import { rfc3339 } from './resources.js';

/**
 * 《下载平台证书》 `GET /v3/certificates`: every platform certificate still valid, each PEM
 * encrypted with the merchant's APIv3 key (AEAD_AES_256_GCM, associated_data "certificate").
 * Empty in `public-key` mode until `/sim/v3/rotate` issues one, as for a merchant that never had
 * platform certificates.
 */
export function createCertificatesApi(ctx: V3Context): V3Api {
  return {
    api: 'certificates',
    method: 'GET',
    path: '/v3/certificates',
    handle({ merchant, now }) {
      const key = merchant.apiV3Key;
      if (!key) return v3Error(400, 'PARAM_ERROR', '商户未设置APIv3密钥');
      const data = ctx.keys
        .certificates()
        .filter((c) => Date.parse(c.notAfter) > now)
        .map((c) => {
          const nonce = nonceOf(12);
          return {
            serial_no: c.serial,
            effective_time: rfc3339(Date.parse(c.notBefore)),
            expire_time: rfc3339(Date.parse(c.notAfter)),
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              nonce,
              associated_data: 'certificate',
              ciphertext: encryptAeadAes256Gcm({
                key,
                nonce,
                associatedData: 'certificate',
                plaintext: c.pem,
              }),
            },
          };
        });
      return json({ data });
    },
  };
}
