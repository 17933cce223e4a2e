import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifyWebhook } from './signature.js';

/**
 * Properties of the receivers' verifier. The oracle for "correctly signed" is node:crypto called
 * directly, not our signing code; hostile headers and bodies are arbitrary strings and bytes.
 */
const secret = fc.string({ minLength: 1, maxLength: 64 });
const body = fc.oneof(fc.string({ maxLength: 300 }), fc.json());
const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const seconds = fc.integer({ min: 0, max: 99_999_999_999 });
const hmac = (key: string, t: number, payload: string) =>
  createHmac('sha256', key).update(`${t}.${payload}`).digest('hex');
const event = fc.record({
  id: fc.string({ minLength: 1 }).map((s) => `evt_${s}`),
  type: fc.constantFrom('payment.succeeded', 'refund.failed'),
  created: seconds,
  livemode: fc.boolean(),
  data: fc.record({ object: fc.dictionary(fc.string(), fc.jsonValue()) }),
});

describe('verifyWebhook properties', () => {
  it('never throws on any header and any body, and never accepts what was not signed with the secret', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 500 }),
          fc.constant(undefined),
          fc.array(fc.string(), { maxLength: 3 }),
        ),
        fc.oneof(fc.string({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 })),
        secret,
        (header, raw, key) => {
          const result = verifyWebhook(raw, header, key, { now: 0 });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on headers built from the real grammar with hostile values', () => {
    const part = fc.oneof(
      fc.string({ maxLength: 80 }).map((v) => `v1=${v}`),
      fc.string({ maxLength: 20 }).map((v) => `t=${v}`),
      fc.oneof(hex(63), hex(64), hex(65)).map((v) => `v1=${v}`),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), body, secret, (parts, raw, key) => {
        const result = verifyWebhook(raw, parts.join(','), key, { now: 1 });
        expect(['bad_header', 'bad_signature', 'stale', 'bad_body']).toContain(
          result.ok ? 'ok' : result.reason,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly what node:crypto signs, among any number of other v1 entries, within the tolerance', () => {
    fc.assert(
      fc.property(
        event,
        secret,
        seconds,
        fc.integer({ min: -300, max: 300 }),
        fc.array(hex(64), { maxLength: 3 }),
        fc.nat({ max: 3 }),
        (ev, key, t, skew, others, at) => {
          const raw = JSON.stringify(ev);
          const v1 = [...others];
          v1.splice(Math.min(at, v1.length), 0, hmac(key, t, raw));
          const header = [`t=${t}`, ...v1.map((s) => `v1=${s}`)].join(',');
          const result = verifyWebhook(raw, header, key, { now: t + skew });
          // The event as JSON carries it (a -0 in the generated object arrives as 0).
          expect(result).toEqual({ ok: true, event: JSON.parse(raw), timestamp: t });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('our signing agrees with node:crypto on any body and secret', () => {
    fc.assert(
      fc.property(body, secret, seconds, (raw, key, t) => {
        expect(signatureHeader(raw, [key], t)).toBe(`t=${t},v1=${hmac(key, t, raw)}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses any change of one character of a signed body', () => {
    fc.assert(
      fc.property(event, secret, fc.nat(), (ev, key, where) => {
        const raw = JSON.stringify(ev);
        const i = where % raw.length;
        const changed =
          raw.slice(0, i) + String.fromCharCode((raw.charCodeAt(i) + 1) % 0xd800) + raw.slice(i + 1);
        const result = verifyWebhook(changed, signatureHeader(raw, [key], 5), key, { now: 5 });
        expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
      }),
      { numRuns: 500 },
    );
  });
});
