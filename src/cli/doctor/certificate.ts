import { X509Certificate } from 'node:crypto';
import { keyMatchesCertificate, tryCertificateSerial } from '../../wechat/v3/keys.js';
import { type CheckResult, fail, ok, warn } from './check.js';

/** The merchant API certificate and its key, as read from the settings. */
export interface MerchantCertificate {
  certPem: string | undefined;
  keyPem: string;
  /** WECHAT_MCH_CERT_SERIAL when given (v3), else undefined. */
  serialSetting: string | undefined;
}

const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;
const RENEW =
  'renew the API certificate in pay.weixin.qq.com → 账户中心 → API安全 → API证书, then point WECHAT_MCH_CERT (and WECHAT_MCH_CERT_KEY) at the new apiclient_cert.pem and apiclient_key.pem';

/**
 * The merchant certificate belongs to the private key, its serial is the one configured, and it
 * is still valid (a warning 30 days ahead). Names serials and dates, never key material.
 */
export function checkMerchantCertificate(input: MerchantCertificate, nowMs: number): CheckResult[] {
  const results: CheckResult[] = [];
  const { certPem, keyPem, serialSetting } = input;
  if (certPem === undefined) {
    results.push(
      ok(
        'certificate.serial',
        `no WECHAT_MCH_CERT; WECHAT_MCH_CERT_SERIAL ${serialSetting ?? '(none)'} is used as given`,
      ),
    );
    return results;
  }
  const serial = tryCertificateSerial(certPem);
  if (serial === undefined) {
    results.push(
      fail(
        'certificate.read',
        'WECHAT_MCH_CERT is not a readable certificate',
        'set WECHAT_MCH_CERT to the path of apiclient_cert.pem',
      ),
    );
    return results;
  }
  results.push(
    keyMatchesCertificate(keyPem, certPem)
      ? ok(
          'certificate.key-match',
          `WECHAT_MCH_CERT_KEY is the private key of WECHAT_MCH_CERT (serial ${serial})`,
        )
      : fail(
          'certificate.key-match',
          `WECHAT_MCH_CERT_KEY does not belong to WECHAT_MCH_CERT (serial ${serial})`,
          'set WECHAT_MCH_CERT_KEY to the apiclient_key.pem issued together with WECHAT_MCH_CERT (the same download from the certificate tool)',
        ),
  );
  if (serialSetting !== undefined) {
    results.push(
      serialSetting.toUpperCase() === serial
        ? ok('certificate.serial', `WECHAT_MCH_CERT_SERIAL matches the certificate (${serial})`)
        : fail(
            'certificate.serial',
            `WECHAT_MCH_CERT_SERIAL (${serialSetting}) is not the serial of WECHAT_MCH_CERT (${serial})`,
            `set WECHAT_MCH_CERT_SERIAL=${serial}, or remove it: the serial is read from WECHAT_MCH_CERT`,
          ),
    );
  }
  results.push(expiry(new X509Certificate(certPem), serial, nowMs));
  return results;
}

function expiry(cert: X509Certificate, serial: string, nowMs: number): CheckResult {
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  const until = new Date(notAfter).toISOString().slice(0, 10);
  const days = Math.floor((notAfter - nowMs) / DAY_MS);
  if (notAfter <= nowMs)
    return fail('certificate.expiry', `the merchant certificate ${serial} expired on ${until}`, RENEW);
  if (notBefore > nowMs)
    return fail(
      'certificate.expiry',
      `the merchant certificate ${serial} is valid only from ${new Date(notBefore).toISOString().slice(0, 10)}`,
      'check the server clock, or use the certificate in force today',
    );
  if (days < EXPIRY_WARNING_DAYS)
    return warn(
      'certificate.expiry',
      `the merchant certificate ${serial} expires in ${days} day(s), on ${until}`,
      RENEW,
    );
  return ok('certificate.expiry', `the merchant certificate is valid until ${until} (${days} days)`);
}
