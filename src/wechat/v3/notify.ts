import { createNonce } from '../v2/fields.js';
import { decryptAeadAes256Gcm, encryptAeadAes256Gcm } from './aead.js';
import { parseJson } from './responses.js';
import {
  signResponseV3,
  type V3Key,
  type V3KeyResolver,
  type V3VerifyFailure,
  verifyWechatpayHeaders,
} from './sign.js';

export type { V3Refund, V3RefundResource, V3Transaction } from './responses.js';

/**
 * The v3 notification (《支付通知》, 《退款结果通知》), both directions: verifying one (the
 * service) and building one exactly as WeChat does (the simulator, the tests).
 *
 * Verification order: `Wechatpay-*` headers over the RAW body (probe, 300 s window either way,
 * known serial, signature) → JSON envelope → `AEAD_AES_256_GCM` decryption with the APIv3 key and
 * the `associated_data` received → JSON resource. Matching the resource against our own order is
 * the service's job; this module knows no orders.
 */

export interface V3NotificationResource {
  algorithm: string;
  ciphertext: string;
  associated_data: string;
  nonce: string;
  original_type: string;
}

export interface V3Notification {
  id: string;
  create_time: string;
  event_type: string;
  resource_type: string;
  summary: string;
  resource: V3NotificationResource;
}

export type V3NotificationFailure = V3VerifyFailure | 'MALFORMED' | 'DECRYPT_FAILED';

export type V3NotificationResult =
  | { ok: true; notification: V3Notification; resource: unknown; serial: string }
  | { ok: false; reason: V3NotificationFailure };

export interface VerifyV3NotificationOptions {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  keys: V3KeyResolver;
  apiV3Key: string;
  nowSeconds: number;
  toleranceSeconds?: number;
  /** Largest body accepted (default 64 KiB; real notifications are about 1 KiB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_NOTIFICATION_BYTES = 64 * 1024;

/**
 * Verifies and decrypts a notification. Never throws; a failure names its reason so the caller
 * can log a `SIGN_PROBE` at info level and anything else as a refusal (reply 4xx/5xx so a genuine
 * notification is retried).
 *
 * @example
 * const result = verifyV3Notification(rawBody, { headers: req.headers, keys: store.resolve,
 *   apiV3Key, nowSeconds: Math.floor(clock.now() / 1000) });
 * if (result.ok && result.notification.event_type === 'TRANSACTION.SUCCESS') toV3Transaction(result.resource);
 */
export function verifyV3Notification(
  rawBody: string | Buffer,
  options: VerifyV3NotificationOptions,
): V3NotificationResult {
  const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody, 'utf8') : rawBody.length;
  if (size > (options.maxBytes ?? DEFAULT_MAX_NOTIFICATION_BYTES)) return { ok: false, reason: 'MALFORMED' };
  const check = verifyWechatpayHeaders({
    headers: options.headers,
    body: rawBody,
    keys: options.keys,
    nowSeconds: options.nowSeconds,
    toleranceSeconds: options.toleranceSeconds,
  });
  if (!check.ok) return check;
  const notification = parseEnvelope(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  if (!notification) return { ok: false, reason: 'MALFORMED' };
  const { resource } = notification;
  const decrypted = decryptAeadAes256Gcm({
    key: options.apiV3Key,
    nonce: resource.nonce,
    associatedData: resource.associated_data,
    ciphertext: resource.ciphertext,
  });
  if (!decrypted.ok) return { ok: false, reason: 'DECRYPT_FAILED' };
  const parsed = parseJson(decrypted.plaintext);
  if (parsed === undefined) return { ok: false, reason: 'MALFORMED' };
  return { ok: true, notification, resource: parsed, serial: check.serial };
}

function parseEnvelope(text: string): V3Notification | undefined {
  const value = parseJson(text) as Record<string, unknown> | undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const resource = value.resource as Record<string, unknown> | undefined;
  if (typeof resource !== 'object' || resource === null) return undefined;
  for (const name of ['id', 'event_type'] as const) if (typeof value[name] !== 'string') return undefined;
  for (const name of ['ciphertext', 'nonce', 'associated_data'] as const) {
    if (typeof resource[name] !== 'string') return undefined;
  }
  if (resource.algorithm !== 'AEAD_AES_256_GCM') return undefined;
  return value as unknown as V3Notification;
}

export interface BuildV3NotificationInput {
  id: string;
  createTime: string;
  /** `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`. */
  eventType: string;
  summary: string;
  /** `transaction` or `refund`. */
  originalType: string;
  associatedData: string;
  /** The object to encrypt (a Transaction or a refund resource). */
  resource: object;
  apiV3Key: string;
  /** 12-character encryption nonce; random when absent. */
  nonce?: string;
  signer: { privateKey: V3Key; serial: string };
  /** Unix seconds of `Wechatpay-Timestamp`. */
  timestamp: number;
  /** `Wechatpay-Nonce`; random when absent. */
  signatureNonce?: string;
}

/**
 * A notification exactly as WeChat sends it: the body (fields in WeChat's order) and the signed
 * `Wechatpay-*` headers.
 *
 * @example
 * const { body, headers } = buildV3Notification({ id: 'EV-2018022511223320873',
 *   createTime: '2024-01-01T12:05:31+08:00', eventType: 'TRANSACTION.SUCCESS', summary: '支付成功',
 *   originalType: 'transaction', associatedData: 'transaction', resource: transaction, apiV3Key,
 *   signer: { privateKey: platformKey, serial: 'PUB_KEY_ID_…' }, timestamp: 1704081931 });
 */
export function buildV3Notification(input: BuildV3NotificationInput): {
  body: string;
  headers: Record<string, string>;
} {
  const nonce = input.nonce ?? createNonce(12);
  const body = JSON.stringify({
    id: input.id,
    create_time: input.createTime,
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary,
    resource: {
      original_type: input.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptAeadAes256Gcm({
        key: input.apiV3Key,
        nonce,
        associatedData: input.associatedData,
        plaintext: JSON.stringify(input.resource),
      }),
      associated_data: input.associatedData,
      nonce,
    },
  });
  const headers = signResponseV3({
    body,
    privateKey: input.signer.privateKey,
    serial: input.signer.serial,
    timestamp: input.timestamp,
    nonce: input.signatureNonce ?? createNonce(32),
  });
  return { body, headers };
}
