import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Facts, violations } from './checks.js';
import { healthy } from './healthy-facts.js';
import { signatureVerifies } from './webhook-receiver.js';

/**
 * The webhook checks must see a broken delivery promise: each case is what a real bug would
 * leave behind (an event lost with the kill, one sent for a rollback, a body signed wrongly).
 */
const BODY = '{"id":"evt_1","type":"payment.succeeded","data":{"object":{"outTradeNo":"T1"}}}';

function announced(): Facts {
  const facts = healthy();
  facts.webhooks = {
    outbox: [{ id: 'evt_1', type: 'payment.succeeded', orderId: 'id-T1', body: BODY }],
    received: [{ id: 'evt_1', type: 'payment.succeeded', outTradeNo: 'T1', body: BODY, verified: true }],
  };
  return facts;
}

function webhooks(facts: Facts) {
  return facts.webhooks as NonNullable<Facts['webhooks']>;
}

describe('webhook checks', () => {
  it('find nothing wrong when each paid order was announced once and received, even twice', () => {
    const facts = announced();
    const [first] = webhooks(facts).received;
    if (first) webhooks(facts).received.push({ ...first });
    expect(violations(facts)).toEqual([]);
  });

  it('report a paid order whose event never reached the receiver', () => {
    const facts = announced();
    webhooks(facts).received = [];
    expect(violations(facts)).toEqual(['payment.succeeded evt_1 of T1 never reached the receiver']);
  });

  it('report a paid order without its event, or with two', () => {
    const facts = announced();
    webhooks(facts).outbox = [];
    expect(violations(facts)).toContain('PAID order T1 has 0 payment.succeeded events');
    webhooks(facts).outbox = [
      { id: 'evt_1', type: 'payment.succeeded', orderId: 'id-T1', body: BODY },
      { id: 'evt_2', type: 'payment.succeeded', orderId: 'id-T1', body: BODY },
    ];
    expect(violations(facts)).toEqual(['PAID order T1 has 2 payment.succeeded events']);
  });

  it('report an event received for a change that did not commit', () => {
    const facts = announced();
    webhooks(facts).received.push({
      id: 'evt_9',
      type: 'payment.succeeded',
      outTradeNo: 'T9',
      body: '{}',
      verified: true,
    });
    expect(violations(facts)).toEqual([
      'the receiver got event evt_9 (payment.succeeded), which no commit wrote',
    ]);
  });

  it('report a payment.succeeded naming an order that is not paid here', () => {
    const facts = announced();
    const outbox = webhooks(facts).outbox;
    outbox.push({ id: 'evt_3', type: 'payment.succeeded', orderId: 'id-T3', body: '{"n":3}' });
    webhooks(facts).received.push({
      id: 'evt_3',
      type: 'payment.succeeded',
      outTradeNo: 'T3',
      body: '{"n":3}',
      verified: true,
    });
    expect(violations(facts)).toEqual(['payment.succeeded evt_3 names T3, which is missing']);
  });

  it('report a body whose signature does not verify', () => {
    const facts = announced();
    (webhooks(facts).received[0] as { verified: boolean }).verified = false;
    expect(violations(facts)).toEqual([
      'event evt_1 (payment.succeeded) arrived with a signature that does not verify',
    ]);
  });
});

describe("the crash receiver's signature check", () => {
  const secret = 'whsec_crash_run_receiver_secret';
  const v1 = (s: string, t: string, body: string) =>
    createHmac('sha256', s).update(`${t}.${body}`).digest('hex');

  it('accepts HMAC-SHA256(secret, t.body) in any v1, and nothing else', () => {
    const good = v1(secret, '1700000000', BODY);
    expect(signatureVerifies(`t=1700000000,v1=${good}`, BODY, secret)).toBe(true);
    expect(signatureVerifies(`t=1700000000,v1=${'0'.repeat(64)},v1=${good}`, BODY, secret)).toBe(true);
    expect(signatureVerifies(`t=1700000001,v1=${good}`, BODY, secret)).toBe(false);
    expect(signatureVerifies(`t=1700000000,v1=${good}`, `${BODY} `, secret)).toBe(false);
    expect(signatureVerifies(`t=1700000000,v1=${good}`, BODY, `${secret}x`)).toBe(false);
    expect(signatureVerifies(`v1=${good}`, BODY, secret)).toBe(false);
    expect(signatureVerifies(undefined, BODY, secret)).toBe(false);
  });
});
