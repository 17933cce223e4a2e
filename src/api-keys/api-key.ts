import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomFromAlphabet } from '../random-pool.js';

/** Every key starts with this, so a leaked one is recognisable (and secret scanners can find it). */
export const API_KEY_PREFIX = 'wpk_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_LENGTH = 32;
/** The shape of a key: the prefix and 32 base62 characters (about 190 random bits). */
export const API_KEY_PATTERN = /^wpk_[0-9A-Za-z]{32}$/;

/** `length` base62 characters straight from the CSPRNG (a key is a secret, never pooled). */
const randomText = (length: number): string => randomFromAlphabet(ALPHABET, length, randomBytes);

/**
 * A new API key: `wpk_` and 32 random base62 characters. Base62 rather than base64url so a
 * double click selects the whole key.
 *
 * @example
 * newApiKey() // 'wpk_3Jx9…' (36 characters)
 */
export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomText(SECRET_LENGTH)}`;
}

/** A short id for a key, safe to log and to type: `key_` and 12 base62 characters. */
export function newApiKeyId(): string {
  return `key_${randomText(12)}`;
}

/**
 * What is stored instead of the key: its SHA-256, hex. A fast hash is enough here, unlike for a
 * password: the key is 190 random bits, so no dictionary or brute force can walk back from the
 * hash, and a slow hash would only slow every request down.
 *
 * @example
 * apiKeyHash('wpk_' + 'a'.repeat(32)).length // 64
 */
export function apiKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares two hashes in constant time; a hash of the wrong length is a plain false. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
