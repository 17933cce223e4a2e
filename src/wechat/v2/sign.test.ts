import { describe, expect, it } from 'vitest';
import { SIMULATOR_TEST_KEY, VECTOR_B } from '../../../test/fixtures/protocol-vectors.js';
import { canonicalV2, signV2, verifyV2, withSignV2 } from './sign.js';

const officialKey = '192006250b4c09247ec02edce69f6a2d';
const official = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
};
const key = SIMULATOR_TEST_KEY;
const vectorA = {
  appid: 'wx1234567890abcdef',
  mch_id: '1900000109',
  nonce_str: 'Xk3pQ9zT2vLm8RsW',
  body: '测试商品-咖啡',
  out_trade_no: 'ORDER_20240101_0001',
  total_fee: '1',
  spbill_create_ip: '127.0.0.1',
  notify_url: 'https://example.com/wxpay/notify',
  trade_type: 'JSAPI',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  attach: '',
  sign: 'SHOULD_BE_IGNORED',
};
const vectorB: Record<string, string> = { ...VECTOR_B };

describe('v2 signatures', () => {
  it("reproduces WeChat's published MD5 and HMAC-SHA256 example", () => {
    expect(canonicalV2(official)).toBe(
      'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
    );
    expect(signV2(official, officialKey)).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(signV2(official, officialKey, 'HMAC-SHA256')).toBe(
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });

  it('leaves out empty fields and a stale sign, and signs UTF-8 text (vectorA)', () => {
    expect(signV2(vectorA, key)).toBe('55759E2E0D09A1A86A2FAD3E5217B23D');
  });

  it('signs sign_type itself when HMAC-SHA256 is used (vectorA)', () => {
    const signed = withSignV2(vectorA, key, 'HMAC-SHA256');
    expect(signed.sign_type).toBe('HMAC-SHA256');
    expect(signed.sign).toBe('49F57228B80C56A7001AA8B36D171BE5A147766AC1532E2AB9DF04D605CAAC51');
  });

  it('signs a payment notification (vectorB) and verifies it', () => {
    expect(signV2(vectorB, key)).toBe('D27337D13232C28C4B4BB568719E2C5E');
    expect(verifyV2({ ...vectorB, sign: 'D27337D13232C28C4B4BB568719E2C5E' }, key)).toBe(true);
  });

  it('includes unknown fields in the signature', () => {
    const signed = withSignV2({ ...vectorB, brand_new_field: 'x' }, key);
    expect(verifyV2(signed, key)).toBe(true);
    expect(verifyV2({ ...signed, brand_new_field: 'y' }, key)).toBe(false);
  });

  it.each([
    ['lower case', 'd27337d13232c28c4b4bb568719e2c5e'],
    ['31 characters', 'D27337D13232C28C4B4BB568719E2C5'],
    ['33 characters', 'D27337D13232C28C4B4BB568719E2C5EE'],
    ['empty', ''],
    ['wrong key', signV2(vectorB, 'AnotherKey0123456789abcdefghijkl')],
    ['non-ASCII', 'Ｄ27337D13232C28C4B4BB568719E2C5'],
  ])('returns false, never throws, for a signature that is %s', (_label, sign) => {
    expect(verifyV2({ ...vectorB, sign }, key)).toBe(false);
  });

  it('returns false for a missing sign or an unknown sign_type', () => {
    expect(verifyV2(vectorB, key)).toBe(false);
    const signed = withSignV2(vectorB, key);
    expect(verifyV2({ ...signed, sign_type: 'SHA1' }, key)).toBe(false);
  });

  it('refuses a downgrade to MD5 when HMAC-SHA256 is expected', () => {
    const md5 = withSignV2(vectorB, key, 'MD5');
    expect(verifyV2(md5, key)).toBe(true);
    expect(verifyV2(md5, key, 'HMAC-SHA256')).toBe(false);
    expect(verifyV2(withSignV2(vectorB, key, 'HMAC-SHA256'), key, 'HMAC-SHA256')).toBe(true);
  });
});
