import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_V3_KEY, VECTOR_G } from '../../../test/fixtures/v3-keys.js';
import { decryptAeadAes256Gcm, encryptAeadAes256Gcm } from './aead.js';

const input = { key: VECTOR_G.key, nonce: VECTOR_G.nonce, associatedData: VECTOR_G.associatedData };

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

describe('AEAD_AES_256_GCM', () => {
  it('reproduces the known notification ciphertext and decrypts it back', () => {
    expect(encryptAeadAes256Gcm({ ...input, plaintext: VECTOR_G.plaintext })).toBe(VECTOR_G.ciphertext);
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: VECTOR_G.ciphertext })).toEqual({
      ok: true,
      plaintext: VECTOR_G.plaintext,
    });
  });

  it('refuses a changed byte in the ciphertext body and in the tag', () => {
    const length = Buffer.from(VECTOR_G.ciphertext, 'base64').length;
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: flipByte(VECTOR_G.ciphertext, 0) })).toEqual({
      ok: false,
    });
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: flipByte(VECTOR_G.ciphertext, length - 1) })).toEqual(
      {
        ok: false,
      },
    );
  });

  it('refuses the wrong associated data, nonce or key', () => {
    const { ciphertext } = VECTOR_G;
    expect(decryptAeadAes256Gcm({ ...input, associatedData: 'refund', ciphertext })).toEqual({ ok: false });
    expect(decryptAeadAes256Gcm({ ...input, associatedData: '', ciphertext })).toEqual({ ok: false });
    expect(decryptAeadAes256Gcm({ ...input, nonce: 'fdasflkja485', ciphertext })).toEqual({ ok: false });
    expect(decryptAeadAes256Gcm({ ...input, key: `${API_V3_KEY.slice(0, -1)}f`, ciphertext })).toEqual({
      ok: false,
    });
  });

  it.each([
    ['a short key', { key: 'short' }],
    ['a long nonce', { nonce: 'fdasflkja4840' }],
    ['a ciphertext shorter than the tag', { ciphertext: 'AAAA' }],
    ['bad base64', { ciphertext: '!!!!' }],
    ['base64 of the wrong length', { ciphertext: `${VECTOR_G.ciphertext}A` }],
    ['an empty ciphertext', { ciphertext: '' }],
  ])('gives a typed failure, not an exception, for %s', (_name, change) => {
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: VECTOR_G.ciphertext, ...change })).toEqual({
      ok: false,
    });
  });

  it('decrypts an empty plaintext and refuses one that is not UTF-8', () => {
    const empty = encryptAeadAes256Gcm({ ...input, plaintext: '' });
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: empty })).toEqual({ ok: true, plaintext: '' });
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(input.key), Buffer.from(input.nonce));
    cipher.setAAD(Buffer.from(input.associatedData));
    const sealed = Buffer.concat([
      cipher.update(Buffer.from([0xff, 0xfe])),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    expect(decryptAeadAes256Gcm({ ...input, ciphertext: sealed.toString('base64') })).toEqual({ ok: false });
  });
});
