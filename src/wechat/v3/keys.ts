import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { V3KeyResolver } from './sign.js';

/**
 * The keys that may sign WeChat's responses and notifications, chosen by `Wechatpay-Serial`
 * ("平台证书" and "微信支付公钥"):
 * - public-key mode: one WeChat Pay public key, id `PUB_KEY_ID_…`, no expiry (new merchants);
 * - platform-certificate mode: certificates downloaded from `GET /v3/certificates`, each with a
 *   hex serial and an expiry, rotated by WeChat;
 * - migration: both at once. WeChat switches notifications to the public key gradually, so the
 *   merchant accepts either, picked by serial.
 */

export interface V3PlatformCertificate {
  /** Upper-case hex, no colons, as in `Wechatpay-Serial`. */
  serial: string;
  /** PEM of the X.509 certificate. */
  pem: string;
  /** Expiry, Unix seconds. */
  notAfter: number;
}

export interface V3KeyStoreOptions {
  publicKey?: { id: string; pem: string };
  certificates?: readonly V3PlatformCertificate[];
  /** When given, an expired certificate no longer resolves. */
  nowSeconds?: () => number;
}

export interface AddCertificatesResult {
  added: string[];
  /** Entries whose PEM is not a certificate or whose serial is not the certificate's own. */
  rejected: string[];
}

export interface V3KeyStore {
  resolve: V3KeyResolver;
  /** Every serial or key id that resolves now. */
  serials(): string[];
  /** Adds (or replaces) certificates, typically after `GET /v3/certificates`; never throws. */
  addCertificates(list: readonly V3PlatformCertificate[]): AddCertificatesResult;
  /** The latest expiry among the certificates (Unix seconds), `undefined` without certificates. */
  latestNotAfter(): number | undefined;
}

/**
 * Serial of a certificate as WeChat prints it: upper-case hex without colons. Throws on a PEM
 * that is not a certificate (configuration input; see {@link tryCertificateSerial} otherwise).
 *
 * @example
 * certificateSerial(readFileSync('apiclient_cert.pem', 'utf8')) // '5E3A1F0C2B7D4E6F8A9B0C1D2E3F4A5B6C7D8E9F'
 */
export function certificateSerial(certPem: string): string {
  const serial = tryCertificateSerial(certPem);
  if (serial === undefined) throw new TypeError('not a PEM X.509 certificate');
  return serial;
}

/**
 * {@link certificateSerial}, but `undefined` instead of throwing.
 *
 * @example
 * tryCertificateSerial('garbage') // undefined
 */
export function tryCertificateSerial(certPem: string): string | undefined {
  try {
    return new X509Certificate(certPem).serialNumber.replace(/:/g, '').toUpperCase();
  } catch {
    return undefined;
  }
}

/**
 * Is `certPem` the certificate of `privateKeyPem`? Catches the classic mix-up of a merchant key
 * and somebody else's certificate before the first signed request fails with SIGN_ERROR.
 *
 * @example
 * keyMatchesCertificate(merchantKeyPem, merchantCertPem) // true
 */
export function keyMatchesCertificate(privateKeyPem: string, certPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch {
    return false;
  }
}

interface Entry {
  key: KeyObject;
  notAfter: number;
}

/**
 * @example
 * const keys = createV3KeyStore({ publicKey: { id: 'PUB_KEY_ID_0119…', pem: wechatpayPublicKeyPem } });
 * keys.resolve('PUB_KEY_ID_0119…') // KeyObject
 */
export function createV3KeyStore(options: V3KeyStoreOptions = {}): V3KeyStore {
  const certificates = new Map<string, Entry>();
  let publicKey: { id: string; key: KeyObject } | undefined;
  if (options.publicKey) {
    if (!options.publicKey.id.startsWith('PUB_KEY_ID_')) {
      throw new TypeError(
        `a WeChat Pay public key id starts with PUB_KEY_ID_ (got "${options.publicKey.id}")`,
      );
    }
    publicKey = { id: options.publicKey.id, key: parsePublicKey(options.publicKey.pem) };
  }

  function addCertificates(list: readonly V3PlatformCertificate[]): AddCertificatesResult {
    const result: AddCertificatesResult = { added: [], rejected: [] };
    for (const cert of list) {
      const given = typeof cert?.serial === 'string' ? cert.serial.toUpperCase() : undefined;
      const serial = typeof cert?.pem === 'string' ? tryCertificateSerial(cert.pem) : undefined;
      if (serial === undefined || serial !== given || !Number.isFinite(cert.notAfter)) {
        result.rejected.push(String(cert?.serial));
        continue;
      }
      certificates.set(serial, { key: createPublicKey(cert.pem), notAfter: cert.notAfter });
      result.added.push(serial);
    }
    return result;
  }

  const initial = addCertificates(options.certificates ?? []);
  if (initial.rejected.length > 0) {
    throw new TypeError(
      `platform certificate(s) ${initial.rejected.join(', ')}: PEM unreadable or serial mismatch`,
    );
  }

  function live(entry: Entry): boolean {
    return options.nowSeconds === undefined || entry.notAfter > options.nowSeconds();
  }

  return {
    resolve(serial) {
      if (publicKey && serial === publicKey.id) return publicKey.key;
      const entry = certificates.get(serial);
      return entry && live(entry) ? entry.key : undefined;
    },
    serials() {
      const out = [...certificates].filter(([, entry]) => live(entry)).map(([serial]) => serial);
      return publicKey ? [publicKey.id, ...out] : out;
    },
    addCertificates,
    latestNotAfter() {
      let latest: number | undefined;
      for (const entry of certificates.values()) latest = Math.max(latest ?? entry.notAfter, entry.notAfter);
      return latest;
    },
  };
}

function parsePublicKey(pem: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`an ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    throw new TypeError('the WeChat Pay public key must be an RSA public key in PEM', { cause: error });
  }
}

/** WeChat advises refreshing platform certificates every 12 hours ("平台证书更新指引"). */
export const CERTIFICATE_REFRESH_INTERVAL_SECONDS = 12 * 60 * 60;
/** An unknown serial may come from a forger: never let it trigger more than one download a minute. */
export const CERTIFICATE_REFRESH_MIN_GAP_SECONDS = 60;

export type RefreshTrigger = 'scheduled' | 'unknown-serial';

export interface CertificateRefreshPolicy {
  /** Should a download start now for this trigger? */
  due(trigger: RefreshTrigger): boolean;
  /** Call when a download starts (success or not), so the gap is kept even after failures. */
  attempted(): void;
  /** Call when a download succeeded. */
  succeeded(): void;
}

/**
 * When to download platform certificates: every 12 h, and whenever an unknown serial shows up,
 * but never twice within a minute. Time comes from `nowSeconds`, so it is tested without sleeping.
 *
 * @example
 * const policy = createCertificateRefreshPolicy({ nowSeconds: () => Math.floor(clock.now() / 1000) });
 * if (policy.due('unknown-serial')) { policy.attempted(); await download(); policy.succeeded(); }
 */
export function createCertificateRefreshPolicy(options: {
  nowSeconds: () => number;
  intervalSeconds?: number;
  minGapSeconds?: number;
}): CertificateRefreshPolicy {
  const interval = options.intervalSeconds ?? CERTIFICATE_REFRESH_INTERVAL_SECONDS;
  const gap = options.minGapSeconds ?? CERTIFICATE_REFRESH_MIN_GAP_SECONDS;
  let lastAttempt: number | undefined;
  let lastSuccess: number | undefined;
  return {
    due(trigger) {
      const now = options.nowSeconds();
      if (lastAttempt !== undefined && now - lastAttempt < gap) return false;
      if (trigger === 'unknown-serial') return true;
      return lastSuccess === undefined || now - lastSuccess >= interval;
    },
    attempted() {
      lastAttempt = options.nowSeconds();
    },
    succeeded() {
      lastSuccess = options.nowSeconds();
    },
  };
}
