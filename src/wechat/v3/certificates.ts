import { decryptAeadAes256Gcm } from './aead.js';
import { jsonObject, malformed } from './call.js';
import type { V3PlatformCertificate } from './keys.js';

/**
 * The answer of `GET /v3/certificates` (《下载平台证书》), decrypted: each entry's
 * `encrypt_certificate` is AEAD_AES_256_GCM under the APIv3 key (associated data `certificate`).
 * An entry that does not decrypt makes the whole answer malformed: only WeChat can encrypt with
 * our APIv3 key, so a failure means the answer is not WeChat's (or the key is misconfigured).
 *
 * @example
 * decryptCertificateList('{"data":[{"serial_no":"5157…","expire_time":"…","encrypt_certificate":{…}}]}', apiV3Key)
 * // [{ serial: '5157…', pem: '-----BEGIN CERTIFICATE-----…', notAfter: 1861920000 }]
 */
export function decryptCertificateList(body: string, apiV3Key: string): V3PlatformCertificate[] {
  const what = 'certificates';
  const data = jsonObject(body, what).data;
  if (!Array.isArray(data)) throw malformed(what, 'no data array');
  return data.map((item: unknown) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const encrypted = (entry.encrypt_certificate ?? {}) as Record<string, unknown>;
    const notAfter = Date.parse(String(entry.expire_time)) / 1000;
    if (typeof entry.serial_no !== 'string' || !Number.isFinite(notAfter)) {
      throw malformed(what, 'an entry lacks serial_no or expire_time');
    }
    const plain = decryptAeadAes256Gcm({
      key: apiV3Key,
      nonce: String(encrypted.nonce),
      associatedData: String(encrypted.associated_data ?? ''),
      ciphertext: String(encrypted.ciphertext),
    });
    if (!plain.ok)
      throw malformed(what, `certificate ${entry.serial_no} does not decrypt with the APIv3 key`);
    return { serial: entry.serial_no, pem: plain.plaintext, notAfter };
  });
}
