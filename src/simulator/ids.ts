import { randomBytes } from 'node:crypto';
import { formatWechatTime } from '../wechat/v2/fields.js';

/**
 * Identifiers shaped like WeChat's (lengths and prefixes as below), so merchant code that stores them in
 * columns sized for the real thing is exercised. A process-wide serial keeps them unique.
 */

const digits = (n: number, width: number): string => String(n % 10 ** width).padStart(width, '0');

const randomDigits = (width: number): string => {
  let out = '';
  for (const b of randomBytes(width)) out += String(b % 10);
  return out;
};

/**
 * @example
 * prepayId(Date.UTC(2024, 0, 1, 4, 5, 30), 7) // 'wx01120530' + 24 hex + '0000007'-ish, 36 characters
 */
export function prepayId(nowMs: number, serial: number): string {
  return `wx${formatWechatTime(nowMs).slice(6)}${randomBytes(10).toString('hex')}${digits(serial, 6)}`;
}

/** 28 digits, e.g. `4200001234202401011234567890`. */
export function transactionId(nowMs: number, serial: number): string {
  return `42000${randomDigits(5)}${formatWechatTime(nowMs).slice(0, 8)}${digits(serial, 10)}`;
}

/** 29 digits, e.g. `50300000002024010112345678901`. */
export function refundId(nowMs: number, serial: number): string {
  return `50300${randomDigits(5)}${formatWechatTime(nowMs).slice(0, 8)}${digits(serial, 11)}`;
}

/** 28 characters starting with `o`, like real openids. */
export function openid(): string {
  return `o${randomBytes(21).toString('base64url').slice(0, 27)}`;
}

/** A unionid has the shape of an openid: 28 characters starting with `o`. */
export function unionid(): string {
  return openid();
}

/** A wx.login code: 32 URL-safe characters. */
export function loginCode(): string {
  return randomBytes(24).toString('base64url');
}

/** Base64 of 16 random bytes, as WeChat's session_key. */
export function sessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `rid` WeChat appends to errmsg. */
export function requestId(): string {
  const h = randomBytes(10).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 20)}`;
}
