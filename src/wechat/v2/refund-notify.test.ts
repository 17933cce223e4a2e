import { describe, expect, it } from 'vitest';
import { NotificationError } from '../errors.js';
import {
  buildRefundNotification,
  decryptRefundReqInfo,
  encryptRefundReqInfo,
  verifyRefundNotification,
} from './refund-notify.js';
import { buildXml } from './xml.js';

const key = 'SimulatorTestKey0123456789abcdef';
// The plaintext of a fixed refund notification's req_info (《退款结果通知》) under the test key.
const plainFields: Record<string, string> = {
  out_refund_no: 'R20240101000001',
  out_trade_no: 'ORDER_20240101_0001',
  refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
  refund_fee: '1',
  refund_id: '50300000002024010112345678901',
  refund_recv_accout: '支付用户零钱',
  refund_request_source: 'API',
  refund_status: 'SUCCESS',
  settlement_refund_fee: '1',
  settlement_total_fee: '1',
  success_time: '2024-01-01 12:10:00',
  total_fee: '1',
  transaction_id: '4200001234202401011234567890',
};
const reqInfo =
  'DZzR0O2M3d6Asr25VZx+uVH1pK7CW3wDpJzHzAWd+6CxGJ/5c6JHMYExQJ1/47hMqsdoIKXjbuxYMQC3LY/c/lXAfewM9fScL3MBwh+mPu8VohrAa7tfteUPye86GMbqjDZC2nTip8MdUbdBr5XZtwURhvOiWxdxPV45j6u6f6PmYHHpPPW1iv5+0/Y3+N5LiGbMP5B2TkNzpriyKXAAt7Gub0gmkttDyOyoEG1po3QKxOHCetsHEfv2Yw/NobkEmVSFeJRm7w3sE9ft9iSUOx3ESPyiqG2tPM1jXHACcxsbk2U5YpCNivNMUQUo+vdMcvDjc6ZqAgG5uVfXO1r/nhbHqLTtKO6Aaqz53gNujJQvp9Hzom2eFHq10VrxW9S34Oz6hfNWHHouDv20DUlGd5mByCPLdImumXyNlSjwt6aefOmVyX8E6qtgxPv68u63XNJSKTV/2oZMJ5FjMseqFBhH6lPOpHa6ytx1PBJc1QOcu5k5kCE5SMxz45Io8PI0bjeKoaJQv61bdK4Huy2BtFVGquimMbKDK13Qo95NSECH9KOqSchBNyBKAZL/qA4w8U9Ue7NwY+z7u3YmySGeXACmk61iXPRt7r6iyYBy1P/CGv93Gn2wQFCeT0X8YKhTf9BaUKweAxlRpuBAcBIJfDRIXLiJxIf8G8ZGIHXnwJMGIdbqFlKiia1bBWUvvFx3ORpkVdn+8gqGd33Iev/hHujikef176PmLMwKBR3FasXNrF3vkXxbbpKUKz44Mpu2JJML5RqLWOUuAgTSknUUOMaWCg+1qPZ5igHCqfSf1amBuBgb7Yx1dtDg+D7uXIGplofJqrY9Z+I/FPPRxzD8YMPhSeqoNScgg48xtFP4V/VIK7kn5f3vmXYWz54e+e11u5eMQ0zbfD4/ymezVz5Nk4Y9uVV8GgbgngIwIjnN5weq0jPIhh4oAnvtd4BHw2XxkesWa/QEXxTdcJeuFQtJPgV7L2JPk8fjg49T6Kdkl1jGhVTcDIT6pmvAwUdc6KbOBTEgvKgn1fSMjzhb2yHQ0w==';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotificationError);
    return (err as NotificationError).code;
  }
  throw new Error('expected a NotificationError');
}

describe('refund req_info (a fixed example)', () => {
  it('decrypts the fixed req_info to its 13 fields', () => {
    expect(decryptRefundReqInfo(reqInfo, key)).toEqual(plainFields);
  });

  it('encrypts the same fields back to the exact fixed req_info', () => {
    expect(encryptRefundReqInfo(plainFields, key)).toBe(reqInfo);
  });

  it('always pads, even when the plaintext is a whole number of blocks', () => {
    // `<root><a><![CDATA[` + x + `]]></a></root>` is 32 bytes + x; 32 x's make 64 bytes.
    const fields = { a: 'x'.repeat(32) };
    expect(Buffer.byteLength(buildXml(fields, 'root', { cdata: 'always' }))).toBe(64);
    const encrypted = encryptRefundReqInfo(fields, key);
    expect(Buffer.from(encrypted, 'base64').length).toBe(80);
    expect(decryptRefundReqInfo(encrypted, key)).toEqual(fields);
  });

  it.each([
    ['a wrong key', () => decryptRefundReqInfo(reqInfo, 'WrongKey0123456789abcdef01234567')],
    ['not base64', () => decryptRefundReqInfo('not base64!', key)],
    ['an empty string', () => decryptRefundReqInfo('', key)],
    ['a partial block', () => decryptRefundReqInfo(reqInfo.slice(0, 20), key)],
    ['a flipped last block', () => decryptRefundReqInfo(`${reqInfo.slice(0, -6)}AAAA==`, key)],
  ])('refuses %s with DECRYPT_ERROR', (_, fn) => {
    expect(codeOf(fn)).toBe('DECRYPT_ERROR');
  });
});

describe('verifyRefundNotification', () => {
  const outer = { appid: 'wx1234567890abcdef', mch_id: '1900000109', nonce_str: 'abc' };

  it('round-trips a notification built for the simulator', () => {
    const xml = buildRefundNotification(outer, plainFields, key);
    expect(verifyRefundNotification(xml, { key })).toEqual({
      appid: 'wx1234567890abcdef',
      mchId: '1900000109',
      transactionId: '4200001234202401011234567890',
      outTradeNo: 'ORDER_20240101_0001',
      refundId: '50300000002024010112345678901',
      outRefundNo: 'R20240101000001',
      totalFee: 1,
      refundFee: 1,
      refundStatus: 'SUCCESS',
      successTime: '2024-01-01 12:10:00',
      fields: plainFields,
    });
  });

  it('accepts the fixed req_info inside a notification', () => {
    const xml = buildXml({ return_code: 'SUCCESS', ...outer, req_info: reqInfo });
    expect(verifyRefundNotification(xml, { key }).outRefundNo).toBe('R20240101000001');
  });

  it('refuses a notification encrypted with another key', () => {
    const xml = buildRefundNotification(outer, plainFields, 'WrongKey0123456789abcdef01234567');
    expect(codeOf(() => verifyRefundNotification(xml, { key }))).toBe('DECRYPT_ERROR');
  });

  it('refuses missing outer and inner fields, bad amounts and non-final states', () => {
    expect(
      codeOf(() => verifyRefundNotification(buildXml({ return_code: 'SUCCESS', ...outer }), { key })),
    ).toBe('MISSING_FIELD');
    const { refund_id: _, ...noRefundId } = plainFields;
    expect(
      codeOf(() => verifyRefundNotification(buildRefundNotification(outer, noRefundId, key), { key })),
    ).toBe('MISSING_FIELD');
    const badFee = { ...plainFields, refund_fee: '0.01' };
    expect(codeOf(() => verifyRefundNotification(buildRefundNotification(outer, badFee, key), { key }))).toBe(
      'INVALID_FIELD',
    );
    const processing = { ...plainFields, refund_status: 'PROCESSING' };
    expect(
      codeOf(() => verifyRefundNotification(buildRefundNotification(outer, processing, key), { key })),
    ).toBe('INVALID_FIELD');
    const failed = buildXml({ return_code: 'FAIL', return_msg: 'x' });
    expect(codeOf(() => verifyRefundNotification(failed, { key }))).toBe('NOT_SUCCESS');
  });
});
