import { createHash } from 'node:crypto';

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are the same request. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The fingerprint a key's first request is remembered by: SHA-256 of its parts as sorted JSON.
 *
 * @example
 * hashRequest({ sku: 'coffee', quantity: 1 }) === hashRequest({ quantity: 1, sku: 'coffee' }) // true
 */
export function hashRequest(request: unknown): string {
  return createHash('sha256').update(stableJson(request)).digest('hex');
}
