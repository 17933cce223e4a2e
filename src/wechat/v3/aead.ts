import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AEAD_AES_256_GCM, the cipher of notification `resource`s and of platform certificates
 * ("证书和回调报文解密"). The key is the merchant's 32-byte APIv3 key, the IV the 12-character
 * `nonce`, the additional data `associated_data`; the ciphertext travels as base64 of
 * ciphertext ‖ 16-byte tag.
 *
 * Test vector (`VECTOR_G` in `test/fixtures/v3-keys.ts`): key `SimulatorApiV3Key0123456789abcde`,
 * nonce `fdasflkja484`, associated data `transaction`, the payment JSON → `kWEkcg3xUgwAxle/…ZZww=`.
 */

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface AeadEncryptInput {
  /** The APIv3 key: 32 characters, used as their UTF-8 bytes. */
  key: string;
  /** 12 characters, used as their UTF-8 bytes. */
  nonce: string;
  associatedData: string;
  plaintext: string;
}

export interface AeadDecryptInput {
  key: string;
  nonce: string;
  associatedData: string;
  /** base64 of ciphertext ‖ tag. */
  ciphertext: string;
}

export type AeadDecryptResult = { ok: true; plaintext: string } | { ok: false };

/**
 * Encrypts as WeChat does (the simulator's side, and tests').
 *
 * @example
 * encryptAeadAes256Gcm({ key: apiV3Key, nonce: 'fdasflkja484', associatedData: 'transaction',
 *   plaintext: JSON.stringify(transaction) }) // 'kWEkcg3x…'
 */
export function encryptAeadAes256Gcm(input: AeadEncryptInput): string {
  const cipher = createCipheriv('aes-256-gcm', keyBytes(input.key), ivBytes(input.nonce));
  cipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(input.plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
}

/**
 * Decrypts and authenticates. A wrong key, nonce or associated data, a changed byte, a short or
 * non-base64 ciphertext, or a plaintext that is not UTF-8 all give `{ ok: false }`; never throws.
 *
 * @example
 * const out = decryptAeadAes256Gcm({ key: apiV3Key, nonce: r.nonce, associatedData: r.associated_data,
 *   ciphertext: r.ciphertext });
 * if (out.ok) JSON.parse(out.plaintext);
 */
export function decryptAeadAes256Gcm(input: AeadDecryptInput): AeadDecryptResult {
  if (typeof input.ciphertext !== 'string' || !BASE64.test(input.ciphertext)) return { ok: false };
  if (input.ciphertext.length % 4 !== 0) return { ok: false };
  if (typeof input.key !== 'string' || Buffer.byteLength(input.key, 'utf8') !== KEY_BYTES)
    return { ok: false };
  if (typeof input.nonce !== 'string' || Buffer.byteLength(input.nonce, 'utf8') !== IV_BYTES)
    return { ok: false };
  if (typeof input.associatedData !== 'string') return { ok: false };
  const sealed = Buffer.from(input.ciphertext, 'base64');
  if (sealed.length < TAG_BYTES) return { ok: false };
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(input.key), ivBytes(input.nonce), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(plain);
    return { ok: true, plaintext: text };
  } catch {
    return { ok: false };
  }
}

function keyBytes(key: string): Buffer {
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length !== KEY_BYTES) {
    throw new RangeError(`the APIv3 key must be ${KEY_BYTES} bytes (it is ${bytes.length})`);
  }
  return bytes;
}

function ivBytes(nonce: string): Buffer {
  const bytes = Buffer.from(nonce, 'utf8');
  if (bytes.length !== IV_BYTES)
    throw new RangeError(`the nonce must be ${IV_BYTES} bytes (it is ${bytes.length})`);
  return bytes;
}
