import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifyWebhook, webhookSignature } from './signature.js';

const secret = 'whsec_test_secret';
const T = 1_700_000_000;
const body = JSON.stringify({
  id: 'evt_0123456789abcdef01234567',
  type: 'payment.succeeded',
  created: T,
  livemode: false,
  data: { object: { object: 'payment', id: 'ord_1', outTradeNo: 'WXP1', amount: 100 } },
});

/** An HMAC written without our module: what a receiver in another language would compute. */
const independent = (key: string, t: number, payload: string) =>
  createHmac('sha256', Buffer.from(key, 'utf8'))
    .update(Buffer.from(`${t}.${payload}`, 'utf8'))
    .digest('hex');

describe('webhook signatures', () => {
  it('reproduces the documented vector (the same as openssl dgst -sha256 -hmac)', () => {
    expect(webhookSignature(secret, T, '{"id":"evt_test"}')).toBe(
      '13941114bb88ac44a76abcfddea5b92aa6182a4b63d8be3aae908a616083bd7e',
    );
  });

  it('writes t first, then one v1 per secret, newest first', () => {
    const header = signatureHeader(body, ['whsec_new', 'whsec_old'], T);
    expect(header).toBe(
      `t=${T},v1=${independent('whsec_new', T, body)},v1=${independent('whsec_old', T, body)}`,
    );
  });

  it('accepts a fresh, correctly signed body as a string or as bytes, and types the event', () => {
    const header = signatureHeader(body, [secret], T);
    for (const raw of [body, Buffer.from(body)]) {
      const result = verifyWebhook(raw, header, secret, { now: T + 10 });
      expect(result.ok).toBe(true);
      if (result.ok && result.event.type === 'payment.succeeded') {
        expect(result.event.data.object.outTradeNo).toBe('WXP1');
      }
    }
  });

  it('accepts any of several v1 entries: a receiver still on the old secret during a rotation', () => {
    const header = signatureHeader(body, ['whsec_new', secret], T);
    expect(verifyWebhook(body, header, secret, { now: T }).ok).toBe(true);
    expect(verifyWebhook(body, header, 'whsec_new', { now: T }).ok).toBe(true);
    expect(verifyWebhook(body, header, 'whsec_other', { now: T })).toMatchObject({ reason: 'bad_signature' });
  });

  it('refuses a signature older or newer than the tolerance, and only after the signature matched', () => {
    const header = signatureHeader(body, [secret], T);
    expect(verifyWebhook(body, header, secret, { now: T + 301 })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(verifyWebhook(body, header, secret, { now: T - 301 })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    expect(verifyWebhook(body, header, secret, { now: T + 300 }).ok).toBe(true);
    expect(verifyWebhook(body, header, secret, { now: T + 30, toleranceSeconds: 10 })).toMatchObject({
      reason: 'stale',
    });
    expect(verifyWebhook(body, header, 'whsec_wrong', { now: T + 9999 })).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('refuses a body changed by one byte, or re-serialised', () => {
    const header = signatureHeader(body, [secret], T);
    expect(verifyWebhook(body.replace('100', '101'), header, secret, { now: T })).toMatchObject({
      reason: 'bad_signature',
    });
    expect(
      verifyWebhook(JSON.stringify(JSON.parse(body), null, 2), header, secret, { now: T }),
    ).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['two headers', ['t=1,v1=aa', 't=1,v1=aa']],
    ['no t', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${T}`],
    ['two t', `t=${T},t=${T},v1=${'a'.repeat(64)}`],
    ['t not a number', `t=12a,v1=${'a'.repeat(64)}`],
    ['a part without =', `t=${T},garbage`],
    ['far too long', `t=${T},${'v1=aa,'.repeat(2000)}`],
  ])('answers bad_header for a header that is %s', (_label, header) => {
    expect(verifyWebhook(body, header as string, secret, { now: T })).toMatchObject({
      ok: false,
      reason: 'bad_header',
    });
  });

  it.each([
    ['upper-case hex', (s: string) => s.toUpperCase()],
    ['63 characters', (s: string) => s.slice(1)],
    ['65 characters', (s: string) => `${s}0`],
    ['empty', () => ''],
    ['not hex', (s: string) => `${s.slice(0, 63)}g`],
    ['full-width digits', (s: string) => `１${s.slice(1)}`],
  ])('answers bad_signature, never throws, for a v1 that is %s', (_label, change) => {
    const header = `t=${T},v1=${change(independent(secret, T, body))}`;
    expect(verifyWebhook(body, header, secret, { now: T })).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('answers bad_body for a signed body that is not a webhook event', () => {
    for (const raw of ['not json', '{"id":1}', 'null']) {
      expect(verifyWebhook(raw, signatureHeader(raw, [secret], T), secret, { now: T })).toMatchObject({
        reason: 'bad_body',
      });
    }
  });

  it('throws, as a programming error, when the secret is missing', () => {
    expect(() => verifyWebhook(body, signatureHeader(body, [secret], T), '')).toThrow(/endpoint secret/);
  });
});
