import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * pino with redactions: secrets, tokens and Authorization
 * headers are replaced, never logged. Openids are not secrets but are personal data, so
 * code logs them through {@link maskOpenid}.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.key',
  '*.mchKey',
  // API v3: the APIv3 key and the merchant private key (config.wechat.v3, client options).
  '*.apiV3Key',
  '*.merchantPrivateKey',
  '*.privateKey',
  'wechat.v3.apiV3Key',
  'wechat.v3.merchantPrivateKey',
  '*.sessionKey',
  '*.session_key',
  '*.adminToken',
  '*.password',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Request URLs never carry tokens (they travel in headers); query strings are kept short.
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: req.url }),
      },
    },
    destination,
  );
}

/**
 * Keeps enough of an openid to correlate log lines, and no more.
 *
 * @example
 * maskOpenid('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o') // 'oUpF…eS6o'
 */
export function maskOpenid(openid: string | null | undefined): string {
  if (!openid) return '';
  if (openid.length <= 8) return '****';
  return `${openid.slice(0, 4)}…${openid.slice(-4)}`;
}
