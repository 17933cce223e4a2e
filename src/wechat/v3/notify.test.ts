import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_V3_KEY,
  lowerCaseHeaders,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
  VECTOR_F,
  VECTOR_F_HEADERS,
  VECTOR_G,
} from '../../../test/fixtures/v3-keys.js';
import { buildV3Notification, verifyV3Notification } from './notify.js';
import { toV3RefundResource, toV3Transaction } from './responses.js';
import { signResponseV3 } from './sign.js';

const platformKey = createPublicKey(PLATFORM_PUBLIC_KEY);
const keys = (serial: string) => (serial === PLATFORM_PUBLIC_KEY_ID ? platformKey : undefined);
const signer = { privateKey: PLATFORM_PRIVATE_KEY, serial: PLATFORM_PUBLIC_KEY_ID };
const options = { headers: VECTOR_F_HEADERS, keys, apiV3Key: API_V3_KEY, nowSeconds: VECTOR_F.timestamp };

/** Signs any body as WeChat would, so the checks after the signature can be reached. */
function signed(body: string, timestamp = VECTOR_F.timestamp) {
  const headers = signResponseV3({ body, ...signer, timestamp, nonce: 'n0nce' });
  return lowerCaseHeaders(headers);
}

function withResource(change: Record<string, string>): string {
  const envelope = JSON.parse(VECTOR_F.body);
  envelope.resource = { ...envelope.resource, ...change };
  return JSON.stringify(envelope);
}

describe('v3 notifications', () => {
  it('verifies and decrypts the known payment notification', () => {
    const result = verifyV3Notification(VECTOR_F.body, options);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.serial).toBe(PLATFORM_PUBLIC_KEY_ID);
    expect(result.notification.id).toBe('EV-2018022511223320873');
    expect(result.notification.event_type).toBe('TRANSACTION.SUCCESS');
    expect(result.resource).toEqual(JSON.parse(VECTOR_G.plaintext));
    const transaction = toV3Transaction(result.resource);
    expect(transaction?.trade_state).toBe('SUCCESS');
    expect(transaction?.amount?.total).toBe(1);
    expect(transaction?.transaction_id).toBe('4200001234202401011234567890');
  });

  it('builds the known notification byte for byte, headers included', () => {
    const built = buildV3Notification({
      id: 'EV-2018022511223320873',
      createTime: '2024-01-01T12:05:31+08:00',
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      associatedData: VECTOR_G.associatedData,
      resource: JSON.parse(VECTOR_G.plaintext),
      apiV3Key: API_V3_KEY,
      nonce: VECTOR_G.nonce,
      signer,
      timestamp: VECTOR_F.timestamp,
      signatureNonce: VECTOR_F.nonce,
    });
    expect(built.body).toBe(VECTOR_F.body);
    expect(built.headers['Wechatpay-Signature']).toBe(VECTOR_F.signature);
    expect(built.headers['Wechatpay-Serial']).toBe(PLATFORM_PUBLIC_KEY_ID);
  });

  it('round-trips a refund notification with random nonces', () => {
    const resource = {
      mchid: '1900000109',
      transaction_id: '4200001234202401011234567890',
      out_trade_no: 'ORDER_20240101_0001',
      refund_id: '50000408942018111907145868882',
      out_refund_no: 'REFUND_1',
      refund_status: 'SUCCESS',
      success_time: '2024-01-02T10:00:00+08:00',
      user_received_account: '支付用户零钱',
      amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40 },
    };
    const built = buildV3Notification({
      id: 'EV-1',
      createTime: '2024-01-02T10:00:01+08:00',
      eventType: 'REFUND.SUCCESS',
      summary: '退款成功',
      originalType: 'refund',
      associatedData: 'refund',
      resource,
      apiV3Key: API_V3_KEY,
      signer,
      timestamp: 2000,
    });
    const headers = lowerCaseHeaders(built.headers);
    const result = verifyV3Notification(Buffer.from(built.body), { ...options, headers, nowSeconds: 2000 });
    expect(result.ok && toV3RefundResource(result.resource)).toEqual(resource);
  });

  it('reports a signature probe, a stale or future timestamp, and a forged body before decrypting', () => {
    const probe = { ...VECTOR_F_HEADERS, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/xyz' };
    expect(verifyV3Notification(VECTOR_F.body, { ...options, headers: probe })).toEqual({
      ok: false,
      reason: 'SIGN_PROBE',
    });
    expect(verifyV3Notification(VECTOR_F.body, { ...options, nowSeconds: VECTOR_F.timestamp + 301 })).toEqual(
      {
        ok: false,
        reason: 'TIMESTAMP_OUT_OF_WINDOW',
      },
    );
    expect(verifyV3Notification(VECTOR_F.body, { ...options, nowSeconds: VECTOR_F.timestamp - 301 })).toEqual(
      {
        ok: false,
        reason: 'TIMESTAMP_OUT_OF_WINDOW',
      },
    );
    const forged = VECTOR_F.body.replace('EV-2018022511223320873', 'EV-2018022511223320874');
    expect(verifyV3Notification(forged, options)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses a signed notification that cannot be decrypted: changed ciphertext, wrong data or key', () => {
    const ciphertext = Buffer.from(VECTOR_G.ciphertext, 'base64');
    ciphertext[5] = ciphertext[5]! ^ 0x80;
    for (const body of [
      withResource({ ciphertext: ciphertext.toString('base64') }),
      withResource({ associated_data: 'refund' }),
      withResource({ nonce: 'short' }),
      withResource({ ciphertext: '%%%%' }),
    ]) {
      expect(verifyV3Notification(body, { ...options, headers: signed(body) })).toEqual({
        ok: false,
        reason: 'DECRYPT_FAILED',
      });
    }
    expect(verifyV3Notification(VECTOR_F.body, { ...options, apiV3Key: 'x'.repeat(32) })).toEqual({
      ok: false,
      reason: 'DECRYPT_FAILED',
    });
  });

  it.each([
    ['not JSON', 'not json'],
    ['a JSON array', '[]'],
    ['no resource', '{"id":"EV-1","event_type":"TRANSACTION.SUCCESS"}'],
    ['another algorithm', withResource({ algorithm: 'AES_128_CBC' })],
  ])('refuses a signed body that is %s as MALFORMED', (_name, body) => {
    expect(verifyV3Notification(body, { ...options, headers: signed(body) })).toEqual({
      ok: false,
      reason: 'MALFORMED',
    });
  });

  it('refuses a body over the size limit before any crypto', () => {
    expect(verifyV3Notification(VECTOR_F.body, { ...options, maxBytes: 100 })).toEqual({
      ok: false,
      reason: 'MALFORMED',
    });
  });
});

describe('v3 resource types', () => {
  const paid = JSON.parse(VECTOR_G.plaintext);

  it('refuses a paid transaction without its transaction_id or amount, and unknown states', () => {
    expect(toV3Transaction(paid)).toEqual(paid);
    expect(toV3Transaction({ ...paid, transaction_id: undefined })).toBeUndefined();
    expect(toV3Transaction({ ...paid, amount: undefined })).toBeUndefined();
    expect(toV3Transaction({ ...paid, amount: { total: 1.5 } })).toBeUndefined();
    expect(toV3Transaction({ ...paid, trade_state: 'PAID' })).toBeUndefined();
    expect(toV3Transaction(null)).toBeUndefined();
    const unpaid = { appid: paid.appid, mchid: paid.mchid, out_trade_no: 'O_1', trade_state: 'NOTPAY' };
    expect(toV3Transaction(unpaid)).toEqual(unpaid);
  });
});
