import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Env } from './config.js';
import { readPemSetting } from './config-pem.js';
import { keyMatchesCertificate, tryCertificateSerial } from './wechat/v3/keys.js';

/** What API v3 needs beyond the v2 settings, read by {@link readV3Settings}. */
export interface V3Settings {
  /** The 32-character APIv3 key: decrypts notification resources and platform certificates. */
  apiV3Key: string;
  /** The merchant API private key (PEM): signs requests and `wx.requestPayment`. */
  merchantPrivateKey: string;
  /** The merchant API certificate (PEM), when given; v2 refunds present it over mutual TLS. */
  merchantCertificate: string | undefined;
  /** The merchant certificate's serial, upper-case hex, as the Authorization header carries it. */
  serialNo: string;
  /**
   * The WeChat Pay public key and its id (`PUB_KEY_ID_…`). Absent: platform-certificate mode
   * (certificates fetched from `GET /v3/certificates`). Present: public-key mode; a notification
   * or response signed by a platform certificate still verifies (the migration), because an
   * unknown certificate serial makes the service fetch the certificates once.
   */
  payPublicKey: { id: string; pem: string } | undefined;
}

const SERIAL = /^[0-9A-Fa-f]{8,64}$/;
export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

function parse<T>(make: () => T): T | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/**
 * Reads and checks the API v3 settings, adding every problem to `problems` so start-up lists
 * them all at once: an APIv3 key of the wrong length, a key that does not match its certificate,
 * a serial that does not match, a public key id without its prefix, unreadable files.
 *
 * @example
 * const problems: string[] = [];
 * const v3 = readV3Settings({ WECHAT_API_V3_KEY: '…32 chars…', WECHAT_MCH_CERT: './apiclient_cert.pem',
 *   WECHAT_MCH_CERT_KEY: './apiclient_key.pem' }, problems);
 */
export function readV3Settings(env: Env, problems: string[]): V3Settings {
  const apiV3Key = env.WECHAT_API_V3_KEY?.trim() ?? '';
  if (!apiV3Key) problems.push('WECHAT_API_V3_KEY is required for API v3 (merchant platform → API 安全)');
  else if (!/^[\x21-\x7e]{32}$/.test(apiV3Key)) {
    problems.push(`WECHAT_API_V3_KEY must be 32 printable ASCII characters (it is ${apiV3Key.length})`);
  }

  const certPem = readPemSetting(env, 'WECHAT_MCH_CERT', problems);
  const keyPem = readPemSetting(env, 'WECHAT_MCH_CERT_KEY', problems);
  const serialOverride = env.WECHAT_MCH_CERT_SERIAL?.trim() || undefined;
  if (!env.WECHAT_MCH_CERT_KEY?.trim()) {
    problems.push(
      'WECHAT_MCH_CERT_KEY is required for API v3: the merchant API private key (apiclient_key.pem)',
    );
  }
  if (!env.WECHAT_MCH_CERT?.trim() && !serialOverride) {
    problems.push(
      'WECHAT_MCH_CERT is required for API v3 (apiclient_cert.pem), or WECHAT_MCH_CERT_SERIAL when only the key is given',
    );
  }

  let privateKey: KeyObject | undefined;
  if (keyPem) {
    privateKey = parse(() => createPrivateKey(keyPem));
    if (!privateKey) problems.push('WECHAT_MCH_CERT_KEY is not a readable PEM private key');
    else if (privateKey.asymmetricKeyType !== 'rsa') {
      problems.push(`WECHAT_MCH_CERT_KEY must be an RSA key (it is ${privateKey.asymmetricKeyType})`);
    }
  }
  let certSerial: string | undefined;
  if (certPem) {
    certSerial = tryCertificateSerial(certPem);
    if (certSerial === undefined) problems.push('WECHAT_MCH_CERT is not a readable PEM certificate');
    else {
      if (keyPem && privateKey && !keyMatchesCertificate(keyPem, certPem)) {
        problems.push(
          'WECHAT_MCH_CERT_KEY does not match WECHAT_MCH_CERT: the key belongs to another certificate',
        );
      }
    }
  }
  if (serialOverride !== undefined) {
    if (!SERIAL.test(serialOverride)) {
      problems.push('WECHAT_MCH_CERT_SERIAL must be the certificate serial in hexadecimal');
    } else if (certSerial !== undefined && serialOverride.toUpperCase() !== certSerial) {
      problems.push(
        `WECHAT_MCH_CERT_SERIAL (${serialOverride}) does not match the serial of WECHAT_MCH_CERT (${certSerial})`,
      );
    }
  }

  return {
    apiV3Key,
    merchantPrivateKey: keyPem ?? '',
    merchantCertificate: certPem,
    serialNo: serialOverride?.toUpperCase() ?? certSerial ?? '',
    payPublicKey: readPayPublicKey(env, problems),
  };
}

function readPayPublicKey(env: Env, problems: string[]): V3Settings['payPublicKey'] {
  const id = env.WECHAT_PAY_PUBLIC_KEY_ID?.trim() || undefined;
  const given = Boolean(env.WECHAT_PAY_PUBLIC_KEY?.trim());
  const pem = readPemSetting(env, 'WECHAT_PAY_PUBLIC_KEY', problems);
  if (given !== (id !== undefined)) {
    problems.push(
      'WECHAT_PAY_PUBLIC_KEY and WECHAT_PAY_PUBLIC_KEY_ID go together: set both (public-key mode) or neither (platform certificates)',
    );
    return undefined;
  }
  if (id === undefined) return undefined;
  if (!id.startsWith(PUBLIC_KEY_ID_PREFIX) || id.length === PUBLIC_KEY_ID_PREFIX.length) {
    problems.push(`WECHAT_PAY_PUBLIC_KEY_ID must start with ${PUBLIC_KEY_ID_PREFIX} (it is ${id})`);
  }
  if (pem !== undefined && !parse(() => createPublicKey(pem))) {
    problems.push('WECHAT_PAY_PUBLIC_KEY is not a readable PEM public key (pub_key.pem)');
  }
  return pem === undefined ? undefined : { id, pem };
}
