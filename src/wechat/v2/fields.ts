import { randomFromAlphabet } from '../../random-pool.js';

/**
 * Formats of v2 field values (as the v2 API pages give them): Beijing-time timestamps, UTF-8 byte limits,
 * merchant order and refund numbers, amounts in fen, nonces. Parsers here are strict and return
 * `undefined` on anything doubtful, so a caller cannot mistake a rejected value for a default.
 */

/** Beijing time is UTC+8 all year: China has no daylight saving time. */
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Epoch milliseconds → `yyyyMMddHHmmss` in Beijing time, the format of `time_start`,
 * `time_expire` and `time_end`.
 *
 * @example
 * formatWechatTime(Date.UTC(2024, 0, 1, 4, 5, 30)) // '20240101120530'
 */
export function formatWechatTime(epochMs: number): string {
  const d = new Date(epochMs + BEIJING_OFFSET_MS);
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds())
  );
}

/** The number written by the ASCII digits text[from, from + width), or -1 if any is not a digit. */
function digits(text: string, from: number, width: number): number {
  let n = 0;
  for (let i = from; i < from + width; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `yyyyMMddHHmmss` (Beijing time) → epoch milliseconds; `undefined` for anything that is not
 * exactly 14 digits naming a real instant (month 13, 30 February and 24:00 are refused, not
 * rolled over).
 *
 * @example
 * parseWechatTime('20240101120530') // Date.UTC(2024, 0, 1, 4, 5, 30)
 * parseWechatTime('20240230120000') // undefined
 */
export function parseWechatTime(text: string): number | undefined {
  if (text.length !== 14) return undefined;
  const y = digits(text, 0, 4);
  const mo = digits(text, 4, 2);
  const d = digits(text, 6, 2);
  const h = digits(text, 8, 2);
  const mi = digits(text, 10, 2);
  const s = digits(text, 12, 2);
  // Checked field by field, not left to Date.UTC, which rolls 30 February over into March. Years
  // below 100 are refused: Date.UTC reads them as 19xx.
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS;
}

/**
 * Bytes of `text` in UTF-8. v2 length limits (`body` String(127), `attach` …) count bytes, so a
 * Chinese character costs 3 (past the limit WeChat answers `body参数长度有误`).
 *
 * @example
 * utf8ByteLength('咖啡') // 6
 */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without ever splitting a character: a surrogate
 * pair counts as one 4-byte character and is kept or dropped whole.
 *
 * @example
 * truncateUtf8('测'.repeat(43), 127) // '测'.repeat(42), 126 bytes
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8ByteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    // A lone surrogate is encoded as U+FFFD (3 bytes) by Buffer, so count it as such.
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** `out_trade_no`: 6–32 characters of `[0-9A-Za-z_-|*]` (《统一下单》; `@` deliberately left out). */
export const OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;

/** `out_refund_no`: 1–64 characters of `[0-9A-Za-z_-|*@]`. */
export const OUT_REFUND_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{1,64}$/;

/**
 * @example
 * isValidOutTradeNo('ORDER_20240101_0001') // true
 * isValidOutTradeNo('A1@B2C3') // false
 */
export function isValidOutTradeNo(value: string): boolean {
  return OUT_TRADE_NO_PATTERN.test(value);
}

/**
 * @example
 * isValidOutRefundNo('R20240101000001') // true
 */
export function isValidOutRefundNo(value: string): boolean {
  return OUT_REFUND_NO_PATTERN.test(value);
}

/** The largest amount a v2 `Int` field carries. */
export const MAX_FEN = 2 ** 31 - 1;

const FEN = /^[1-9][0-9]{0,9}$/;

/**
 * An amount in fen, strictly: 1 to 2^31−1 written as plain ASCII digits with no sign, no
 * leading zero, no space, no decimal point or exponent. Everything
 * else is `undefined`, because a lenient `Number()` turns `100.0`, `1e2` and `0x64` into 100.
 *
 * @example
 * parseFen('100') // 100
 * parseFen('100.0') // undefined
 */
export function parseFen(text: string): number | undefined {
  if (!FEN.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_FEN ? value : undefined;
}

/**
 * Is `value` a whole number of fen we can send (1 to 2^31−1)?
 *
 * @example
 * isValidFen(1) // true
 * isValidFen(0.5) // false
 */
export function isValidFen(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1 && value <= MAX_FEN;
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A cryptographically random `nonce_str` of `[A-Za-z0-9]` (WeChat allows at most 32). A nonce
 * travels in the clear, so it comes from the shared random pool (src/random-pool.ts).
 *
 * @throws {RangeError} for a length that is not a whole number ≥ 1
 *
 * @example
 * createNonce() // e.g. 'q3ZsV0xk9XhB2mT1aR7cY4pL8nW6eJ5d'
 */
export function createNonce(length = 32): string {
  return randomFromAlphabet(NONCE_ALPHABET, length);
}
