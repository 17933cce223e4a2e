import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from './event-types.js';

/** The header every webhook POST carries. */
export const SIGNATURE_HEADER = 'Weapp-Pay-Signature';

/** Longer headers are refused before any parsing: a real one with two secrets is about 150 bytes. */
const MAX_HEADER_LENGTH = 4096;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

/**
 * The signed message is `t + "." + body`, where body is the exact bytes sent.
 *
 * @example
 * signedPayload(1700000000, '{"id":"evt_1"}') // '1700000000.{"id":"evt_1"}'
 */
export function signedPayload(timestamp: number, body: string): string {
  return `${timestamp}.${body}`;
}

/**
 * Hex HMAC-SHA256 of `t + "." + body`, keyed with the whole secret string (`whsec_` included).
 *
 * Test vector: secret `whsec_test_secret`, t `1700000000`, body `{"id":"evt_test"}` gives
 * `13941114bb88ac44a76abcfddea5b92aa6182a4b63d8be3aae908a616083bd7e` (also what
 * `printf '%s' '1700000000.{"id":"evt_test"}' | openssl dgst -sha256 -hmac whsec_test_secret` prints).
 *
 * @example
 * webhookSignature('whsec_test_secret', 1700000000, '{"id":"evt_test"}')
 */
export function webhookSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return hmac.digest('hex');
}

/**
 * The `Weapp-Pay-Signature` value: `t=<unix seconds>,v1=<hex>`, with one `v1` per secret (after
 * a rotation, the new secret's first and the old one's second, for 24 hours). Used by the
 * deliverer, and by receivers' own tests to sign a body as the service would.
 *
 * @example
 * signatureHeader('{"id":"evt_1"}', ['whsec_new', 'whsec_old'], 1700000000)
 * // 't=1700000000,v1=…,v1=…'
 */
export function signatureHeader(
  body: string | Uint8Array,
  secrets: readonly string[],
  timestamp: number,
): string {
  if (secrets.length === 0) throw new TypeError('signatureHeader needs at least one secret');
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${webhookSignature(s, timestamp, body)}`)].join(',');
}

/** Why a webhook was refused. The message says what to check. */
export type WebhookVerifyFailure =
  | { ok: false; reason: 'bad_header'; message: string }
  | { ok: false; reason: 'stale'; message: string; timestamp: number }
  | { ok: false; reason: 'bad_signature'; message: string }
  | { ok: false; reason: 'bad_body'; message: string };

export type WebhookVerifyResult = { ok: true; event: WebhookEvent; timestamp: number } | WebhookVerifyFailure;

export interface VerifyOptions {
  /** How far `t` may be from now, either way, in seconds. 300 by default. */
  toleranceSeconds?: number;
  /** Now, in Unix seconds; the system clock by default. Tests pass a fixed time. */
  now?: number;
}

/** `t` and every `v1` of a header, or why it cannot be read. Never throws. */
function parseHeader(header: unknown): { timestamp: number; signatures: string[] } | string {
  if (Array.isArray(header)) return `send one ${SIGNATURE_HEADER} header (got ${header.length})`;
  if (typeof header !== 'string' || header.trim() === '') return `the ${SIGNATURE_HEADER} header is missing`;
  if (header.length > MAX_HEADER_LENGTH) return `the ${SIGNATURE_HEADER} header is too long`;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return `the ${SIGNATURE_HEADER} header has a part without "=": expected t=…,v1=…`;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !UNIX_SECONDS.test(value))
        return 'the header needs exactly one t=<unix seconds>';
      timestamp = Number(value);
    } else if (key === 'v1') {
      signatures.push(value);
    }
    // Other schemes (a future v2=) are ignored, as receivers of a newer sender should.
  }
  if (timestamp === undefined) return 'the header has no t=<unix seconds>';
  if (signatures.length === 0) return 'the header has no v1= signature';
  return { timestamp, signatures };
}

function isEventShape(value: unknown): value is WebhookEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const data = v.data as Record<string, unknown> | null | undefined;
  return (
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    typeof v.created === 'number' &&
    typeof v.livemode === 'boolean' &&
    typeof data === 'object' &&
    data !== null &&
    typeof data.object === 'object'
  );
}

/**
 * Checks a webhook before you trust it: the signature over the raw body (pass the bytes as they
 * arrived, not re-serialised JSON), one of its `v1` entries made with `secret`, and `t` within
 * the tolerance (a replayed old POST is refused). Compares in constant time. Never throws on what
 * arrives over the network: a hostile header or body is a typed failure.
 *
 * @example
 * const result = verifyWebhook(rawBody, req.headers['weapp-pay-signature'], process.env.WEBHOOK_SECRET, {
 *   toleranceSeconds: 300,
 * });
 * if (!result.ok) return reply.code(400).send(result.reason);
 * if (result.event.type === 'payment.succeeded') ship(result.event.data.object.outTradeNo);
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  header: string | readonly string[] | undefined | null,
  secret: string,
  options: VerifyOptions = {},
): WebhookVerifyResult {
  if (typeof secret !== 'string' || secret === '') {
    throw new TypeError('verifyWebhook needs the endpoint secret (whsec_…) as a non-empty string');
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const parsed = parseHeader(header);
  if (typeof parsed === 'string') return { ok: false, reason: 'bad_header', message: parsed };
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    return {
      ok: false,
      reason: 'bad_body',
      message: 'pass the raw body as a string or Buffer, as it arrived',
    };
  }
  const expected = Buffer.from(webhookSignature(secret, parsed.timestamp, rawBody), 'hex');
  let matched = false;
  for (const candidate of parsed.signatures) {
    // Only well-formed hex of the right length reaches the comparison, so it never throws.
    if (HEX_SIGNATURE.test(candidate) && timingSafeEqual(expected, Buffer.from(candidate, 'hex')))
      matched = true;
  }
  if (!matched) {
    return {
      ok: false,
      reason: 'bad_signature',
      message:
        'no v1 signature matches: check the endpoint secret, and that you pass the raw body, not parsed JSON',
    };
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.timestamp) > tolerance) {
    return {
      ok: false,
      reason: 'stale',
      timestamp: parsed.timestamp,
      message: `the signature's time is ${now - parsed.timestamp} s from now, beyond ${tolerance} s: a replay, or a clock that is off`,
    };
  }
  let event: unknown;
  try {
    event = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
  } catch {
    return { ok: false, reason: 'bad_body', message: 'the body is signed but is not JSON' };
  }
  if (!isEventShape(event))
    return { ok: false, reason: 'bad_body', message: 'the body is not a webhook event' };
  return { ok: true, event, timestamp: parsed.timestamp };
}
