import { describe, expect, it } from 'vitest';
import { SIMULATOR_TEST_KEY, VECTOR_B } from '../../../test/fixtures/protocol-vectors.js';
import { NotificationError } from '../errors.js';
import {
  buildPaymentNotification,
  isSuccessfulNotifyReply,
  notifyReply,
  parseNotificationXml,
  verifyNotificationFields,
  verifyPaymentNotification,
} from './notify.js';
import { signV2, withSignV2 } from './sign.js';
import { buildXml } from './xml.js';

const key = SIMULATOR_TEST_KEY;
const vectorB: Record<string, string> = { ...VECTOR_B };

function codeOf(fn: () => unknown): { code: string; field: string | undefined } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotificationError);
    const e = err as NotificationError;
    return { code: e.code, field: e.field };
  }
  throw new Error('expected a NotificationError');
}

/** Signs any variant of the fields, so each test isolates one problem. */
const signed = (fields: Record<string, string>, signType: 'MD5' | 'HMAC-SHA256' = 'MD5') =>
  buildXml(withSignV2(fields, key, signType));

describe('verifyPaymentNotification', () => {
  it('accepts vectorB with its known signature and types every field', () => {
    const xml = buildXml({ ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5E' });
    const n = verifyPaymentNotification(Buffer.from(xml), { key });
    expect(n).toEqual({
      appid: 'wx1234567890abcdef',
      mchId: '1900000109',
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      outTradeNo: 'ORDER_20240101_0001',
      transactionId: '4200001234202401011234567890',
      totalFee: 1,
      cashFee: 1,
      feeType: 'CNY',
      timeEnd: '20240101120530',
      tradeType: 'JSAPI',
      bankType: 'OTHERS',
      fields: { ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5E' },
    });
  });

  it('verifies fields parsed beforehand exactly as it verifies the body, and refuses them tampered', () => {
    const xml = buildXml({ ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5E' });
    const fields = parseNotificationXml(xml);
    expect(verifyNotificationFields(fields, { key })).toEqual(verifyPaymentNotification(xml, { key }));
    expect(codeOf(() => verifyNotificationFields({ ...fields, total_fee: '100' }, { key })).code).toBe(
      'SIGN_ERROR',
    );
  });

  it('defaults fee_type to CNY and keeps attach', () => {
    const { fee_type: _, ...noFeeType } = vectorB;
    const n = verifyPaymentNotification(signed({ ...noFeeType, attach: 'cart=3' }), { key });
    expect(n.feeType).toBe('CNY');
    expect(n.attach).toBe('cart=3');
  });

  it('accepts HMAC-SHA256 and refuses it when the order was placed with MD5 (no downgrade games)', () => {
    const xml = signed(vectorB, 'HMAC-SHA256');
    expect(verifyPaymentNotification(xml, { key }).totalFee).toBe(1);
    expect(verifyPaymentNotification(xml, { key, signType: 'HMAC-SHA256' }).totalFee).toBe(1);
    expect(codeOf(() => verifyPaymentNotification(xml, { key, signType: 'MD5' })).code).toBe('SIGN_ERROR');
  });

  it('verifies unknown extra fields and ignores empty ones', () => {
    const n = verifyPaymentNotification(signed({ ...vectorB, brand_new: 'x', device_info: '' }), { key });
    expect(n.fields.brand_new).toBe('x');
  });

  it.each([
    ['a wrong key', () => buildXml(withSignV2(vectorB, 'WrongKey0123456789abcdef01234567'))],
    ['random hex', () => buildXml({ ...vectorB, sign: '0123456789ABCDEF0123456789ABCDEF' })],
    ['an empty sign', () => buildXml({ ...vectorB, sign: '' })],
    ['no sign', () => buildXml(vectorB)],
    ['lower-case hex', () => buildXml({ ...vectorB, sign: 'd27337d13232c28c4b4bb568719e2c5e' })],
    ['31 characters', () => buildXml({ ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5' })],
    ['33 characters', () => buildXml({ ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5EE' })],
    ['an unknown sign_type', () => buildXml({ ...vectorB, sign_type: 'SHA1', sign: signV2(vectorB, key) })],
    [
      'a tampered amount',
      () => buildXml({ ...vectorB, total_fee: '10000', sign: 'D27337D13232C28C4B4BB568719E2C5E' }),
    ],
  ])('refuses %s with SIGN_ERROR, never another exception', (_, make) => {
    expect(codeOf(() => verifyPaymentNotification(make(), { key }))).toEqual({
      code: 'SIGN_ERROR',
      field: 'sign',
    });
  });

  it.each([
    'return_code',
    'appid',
    'mch_id',
    'nonce_str',
    'result_code',
    'openid',
    'trade_type',
    'bank_type',
    'total_fee',
    'cash_fee',
    'transaction_id',
    'out_trade_no',
    'time_end',
  ])('refuses a correctly signed notification without %s', (field) => {
    const { [field]: _, ...rest } = vectorB;
    expect(codeOf(() => verifyPaymentNotification(signed(rest), { key }))).toEqual({
      code: 'MISSING_FIELD',
      field,
    });
  });

  it.each(['100.0', '1e2', '0x64', ' 100', '１００', '-1', '0', '12345678901234567890'])(
    'refuses total_fee %j even when signed',
    (totalFee) => {
      const result = codeOf(() =>
        verifyPaymentNotification(signed({ ...vectorB, total_fee: totalFee }), { key }),
      );
      expect(result).toEqual({ code: 'INVALID_FIELD', field: 'total_fee' });
    },
  );

  it('refuses a bad cash_fee and a bad time_end', () => {
    expect(
      codeOf(() => verifyPaymentNotification(signed({ ...vectorB, cash_fee: '1.5' }), { key })).field,
    ).toBe('cash_fee');
    expect(
      codeOf(() => verifyPaymentNotification(signed({ ...vectorB, time_end: '20241301120530' }), { key })),
    ).toEqual({ code: 'INVALID_FIELD', field: 'time_end' });
  });

  it('refuses result_code FAIL and return_code FAIL as NOT_SUCCESS', () => {
    const failed = signed({ ...vectorB, result_code: 'FAIL', err_code: 'NOTENOUGH' });
    expect(codeOf(() => verifyPaymentNotification(failed, { key }))).toEqual({
      code: 'NOT_SUCCESS',
      field: 'result_code',
    });
    const returnFail = signed({ ...vectorB, return_code: 'FAIL' });
    expect(codeOf(() => verifyPaymentNotification(returnFail, { key })).code).toBe('NOT_SUCCESS');
  });

  it('keeps the XML error code for XML it refuses, before looking at any signature', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>`;
    expect(codeOf(() => verifyPaymentNotification(xxe, { key })).code).toBe('XML_DOCTYPE');
    const twice = signed(vectorB).replace(
      '<total_fee>1</total_fee>',
      '<total_fee>1</total_fee><total_fee>10000</total_fee>',
    );
    expect(codeOf(() => verifyPaymentNotification(twice, { key })).code).toBe('XML_DUPLICATE_FIELD');
    expect(codeOf(() => verifyPaymentNotification(Buffer.alloc(65 * 1024, 0x20), { key })).code).toBe(
      'XML_TOO_LARGE',
    );
    expect(codeOf(() => verifyPaymentNotification(signed(vectorB), { key, maxBytes: 100 })).code).toBe(
      'XML_TOO_LARGE',
    );
  });
});

describe('notification replies', () => {
  it('writes the exact bytes WeChat expects', () => {
    expect(notifyReply(true)).toBe(
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
    );
    expect(notifyReply(false, '签名失败')).toBe(
      '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[签名失败]]></return_msg></xml>',
    );
    expect(notifyReply(false)).toBe(
      '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[FAIL]]></return_msg></xml>',
    );
  });

  it('keeps a FAIL message containing ]]> well-formed', () => {
    const reply = notifyReply(false, 'bad ]]> input');
    expect(isSuccessfulNotifyReply(200, reply)).toBe(false);
    expect(reply).toContain('<![CDATA[bad ]]]]><![CDATA[> input]]>');
  });

  it('judges replies as WeChat does', () => {
    expect(isSuccessfulNotifyReply(200, notifyReply(true))).toBe(true);
    expect(isSuccessfulNotifyReply(200, Buffer.from(notifyReply(true)))).toBe(true);
    expect(isSuccessfulNotifyReply(200, '<xml><return_code>SUCCESS</return_code></xml>')).toBe(true);
    expect(isSuccessfulNotifyReply(200, notifyReply(false))).toBe(false);
    expect(isSuccessfulNotifyReply(500, notifyReply(true))).toBe(false);
    expect(isSuccessfulNotifyReply(204, '')).toBe(false);
    expect(isSuccessfulNotifyReply(200, 'success')).toBe(false);
    expect(isSuccessfulNotifyReply(200, 'SUCCESS')).toBe(false);
    expect(isSuccessfulNotifyReply(200, '{"code":"SUCCESS","message":"OK"}')).toBe(false);
    expect(isSuccessfulNotifyReply(200, '<html><body>OK</body></html>')).toBe(false);
    expect(isSuccessfulNotifyReply(200, '<xml><return_code><![CDATA[SUCCESS]></return_code></xml>')).toBe(
      false,
    );
  });
});

describe('buildPaymentNotification', () => {
  it('signs vectorB to its known signature, and the verifier accepts it', () => {
    const xml = buildPaymentNotification(vectorB, key, 'MD5');
    expect(xml).toContain('<sign>D27337D13232C28C4B4BB568719E2C5E</sign>');
    expect(xml.startsWith('<xml><appid>wx1234567890abcdef</appid>')).toBe(true);
    expect(verifyPaymentNotification(xml, { key, signType: 'MD5' }).outTradeNo).toBe('ORDER_20240101_0001');
  });

  it('adds sign_type for HMAC-SHA256', () => {
    const xml = buildPaymentNotification(vectorB, key, 'HMAC-SHA256');
    expect(xml).toContain('<sign_type>HMAC-SHA256</sign_type>');
    expect(xml).toMatch(/<sign>[0-9A-F]{64}<\/sign>/);
  });
});
