import { describe, expect, it } from 'vitest';
import {
  lowerCaseHeaders,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
  PLATFORM_CERTIFICATE_A,
  PLATFORM_CERTIFICATE_A_SERIAL,
  PLATFORM_CERTIFICATE_B,
  PLATFORM_CERTIFICATE_B_SERIAL,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
  VECTOR_F,
  VECTOR_F_HEADERS,
} from '../../../test/fixtures/v3-keys.js';
import {
  certificateSerial,
  createCertificateRefreshPolicy,
  createV3KeyStore,
  keyMatchesCertificate,
  tryCertificateSerial,
  type V3PlatformCertificate,
} from './keys.js';
import { signResponseV3, verifyWechatpayHeaders } from './sign.js';

const certA = { serial: PLATFORM_CERTIFICATE_A_SERIAL, pem: PLATFORM_CERTIFICATE_A, notAfter: 2_000_000_000 };
const certB = { serial: PLATFORM_CERTIFICATE_B_SERIAL, pem: PLATFORM_CERTIFICATE_B, notAfter: 2_100_000_000 };

function signedBy(serial: string, body: string, timestamp: number) {
  const signed = signResponseV3({
    body,
    privateKey: PLATFORM_PRIVATE_KEY,
    serial,
    timestamp,
    nonce: 'nonce',
  });
  return lowerCaseHeaders(signed);
}

describe('certificate helpers', () => {
  it('prints a certificate serial as WeChat does: upper-case hex without colons', () => {
    expect(certificateSerial(MERCHANT_CERTIFICATE)).toBe(MERCHANT_SERIAL);
    expect(certificateSerial(PLATFORM_CERTIFICATE_A)).toBe(PLATFORM_CERTIFICATE_A_SERIAL);
    expect(
      tryCertificateSerial('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
    ).toBeUndefined();
    expect(() => certificateSerial('garbage')).toThrow(/not a PEM X.509 certificate/);
  });

  it('tells whether a private key belongs to a certificate', () => {
    expect(keyMatchesCertificate(MERCHANT_PRIVATE_KEY, MERCHANT_CERTIFICATE)).toBe(true);
    expect(keyMatchesCertificate(PLATFORM_PRIVATE_KEY, MERCHANT_CERTIFICATE)).toBe(false);
    expect(keyMatchesCertificate('garbage', MERCHANT_CERTIFICATE)).toBe(false);
    expect(keyMatchesCertificate(MERCHANT_PRIVATE_KEY, 'garbage')).toBe(false);
  });
});

describe('v3 key store', () => {
  it('public-key mode resolves only the PUB_KEY_ID and verifies the known notification', () => {
    const store = createV3KeyStore({ publicKey: { id: PLATFORM_PUBLIC_KEY_ID, pem: PLATFORM_PUBLIC_KEY } });
    expect(store.serials()).toEqual([PLATFORM_PUBLIC_KEY_ID]);
    expect(store.resolve(PLATFORM_CERTIFICATE_A_SERIAL)).toBeUndefined();
    expect(
      verifyWechatpayHeaders({
        headers: VECTOR_F_HEADERS,
        body: VECTOR_F.body,
        keys: store.resolve,
        nowSeconds: VECTOR_F.timestamp,
      }).ok,
    ).toBe(true);
  });

  it('platform-certificate mode resolves by certificate serial', () => {
    const store = createV3KeyStore({ certificates: [certA] });
    expect(store.serials()).toEqual([PLATFORM_CERTIFICATE_A_SERIAL]);
    const ok = verifyWechatpayHeaders({
      headers: signedBy(PLATFORM_CERTIFICATE_A_SERIAL, '{}', 1000),
      body: '{}',
      keys: store.resolve,
      nowSeconds: 1000,
    });
    expect(ok).toEqual({ ok: true, serial: PLATFORM_CERTIFICATE_A_SERIAL });
    const unknown = verifyWechatpayHeaders({
      headers: signedBy(PLATFORM_CERTIFICATE_B_SERIAL, '{}', 1000),
      body: '{}',
      keys: store.resolve,
      nowSeconds: 1000,
    });
    expect(unknown).toEqual({ ok: false, reason: 'UNKNOWN_SERIAL' });
  });

  it('migration mode accepts both the public key and the certificates, each by its own id', () => {
    const store = createV3KeyStore({
      publicKey: { id: PLATFORM_PUBLIC_KEY_ID, pem: PLATFORM_PUBLIC_KEY },
      certificates: [certA],
    });
    expect(store.serials().sort()).toEqual([PLATFORM_CERTIFICATE_A_SERIAL, PLATFORM_PUBLIC_KEY_ID].sort());
    for (const serial of [PLATFORM_PUBLIC_KEY_ID, PLATFORM_CERTIFICATE_A_SERIAL]) {
      const result = verifyWechatpayHeaders({
        headers: signedBy(serial, 'x', 5),
        body: 'x',
        keys: store.resolve,
        nowSeconds: 5,
      });
      expect(result).toEqual({ ok: true, serial });
    }
  });

  it('adds downloaded certificates, refusing garbage PEMs and serials that are not the certificate own', () => {
    const store = createV3KeyStore({ certificates: [certA] });
    const result = store.addCertificates([
      certB,
      { serial: 'ABCDEF', pem: PLATFORM_CERTIFICATE_A, notAfter: 1 },
      { serial: 'FFFF', pem: 'garbage', notAfter: 1 },
      { serial: 42, pem: null, notAfter: 'soon' } as unknown as V3PlatformCertificate,
    ]);
    expect(result).toEqual({ added: [PLATFORM_CERTIFICATE_B_SERIAL], rejected: ['ABCDEF', 'FFFF', '42'] });
    expect(store.resolve(PLATFORM_CERTIFICATE_B_SERIAL)).toBeDefined();
    expect(store.resolve('ABCDEF')).toBeUndefined();
    expect(store.latestNotAfter()).toBe(certB.notAfter);
  });

  it('stops resolving a certificate once it has expired, when given a clock', () => {
    let now = certA.notAfter - 1;
    const store = createV3KeyStore({ certificates: [certA], nowSeconds: () => now });
    expect(store.resolve(PLATFORM_CERTIFICATE_A_SERIAL)).toBeDefined();
    now = certA.notAfter;
    expect(store.resolve(PLATFORM_CERTIFICATE_A_SERIAL)).toBeUndefined();
    expect(store.serials()).toEqual([]);
  });

  it('refuses bad configuration with a message that says what is wrong', () => {
    expect(() => createV3KeyStore({ publicKey: { id: 'KEY1', pem: PLATFORM_PUBLIC_KEY } })).toThrow(
      /PUB_KEY_ID_/,
    );
    expect(() => createV3KeyStore({ publicKey: { id: PLATFORM_PUBLIC_KEY_ID, pem: 'garbage' } })).toThrow(
      /RSA public key/,
    );
    expect(() => createV3KeyStore({ certificates: [{ ...certA, serial: 'BAD' }] })).toThrow(/BAD/);
  });
});

describe('certificate refresh policy', () => {
  it('is due at once, then every 12 hours', () => {
    let now = 1_000_000;
    const policy = createCertificateRefreshPolicy({ nowSeconds: () => now });
    expect(policy.due('scheduled')).toBe(true);
    policy.attempted();
    policy.succeeded();
    now += 12 * 3600 - 1;
    expect(policy.due('scheduled')).toBe(false);
    now += 1;
    expect(policy.due('scheduled')).toBe(true);
  });

  it('lets an unknown serial trigger a download at most once a minute, failed or not', () => {
    let now = 1_000_000;
    const policy = createCertificateRefreshPolicy({ nowSeconds: () => now });
    expect(policy.due('unknown-serial')).toBe(true);
    policy.attempted();
    now += 59;
    expect(policy.due('unknown-serial')).toBe(false);
    expect(policy.due('scheduled')).toBe(false);
    now += 1;
    expect(policy.due('unknown-serial')).toBe(true);
    expect(policy.due('scheduled')).toBe(true);
  });
});
