import { describe, expect, it } from 'vitest';
import {
  MERCHANT_PRIVATE_KEY,
  MERCHANT_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY,
  VECTOR_H,
} from '../../../test/fixtures/v3-keys.js';
import { createManualClock } from '../../clock.js';
import { v3PayParams, verifyV3PaySign } from './pay-params.js';

const prepayId = VECTOR_H.package.slice('prepay_id='.length);

describe('v3 wx.requestPayment parameters', () => {
  it('reproduces the known paySign', () => {
    const params = v3PayParams({
      appid: VECTOR_H.appid,
      prepayId,
      privateKey: MERCHANT_PRIVATE_KEY,
      timeStamp: VECTOR_H.timeStamp,
      nonceStr: VECTOR_H.nonceStr,
    });
    expect(params).toEqual({
      timeStamp: '1704081930',
      nonceStr: 'Xk3pQ9zT2vLm8RsW',
      package: 'prepay_id=wx01120530123456789abcdef0123456700',
      signType: 'RSA',
      paySign: VECTOR_H.paySign,
    });
    expect(verifyV3PaySign({ appid: VECTOR_H.appid, ...params }, MERCHANT_PUBLIC_KEY)).toBe(true);
  });

  it('takes the timeStamp in seconds from the clock and a fresh nonce', () => {
    const clock = createManualClock(1_704_081_930_999);
    const params = v3PayParams({ appid: VECTOR_H.appid, prepayId, privateKey: MERCHANT_PRIVATE_KEY, clock });
    expect(params.timeStamp).toBe('1704081930');
    expect(params.nonceStr).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(verifyV3PaySign({ appid: VECTOR_H.appid, ...params }, MERCHANT_PUBLIC_KEY)).toBe(true);
    expect(() => v3PayParams({ appid: VECTOR_H.appid, prepayId, privateKey: MERCHANT_PRIVATE_KEY })).toThrow(
      /timeStamp or a clock/,
    );
  });

  it.each([
    ['another appid', { appid: 'wx0000000000000000' }],
    ['a timeStamp in milliseconds', { timeStamp: '1704081930000' }],
    ['a numeric timeStamp', { timeStamp: 1704081930 }],
    ['another nonce', { nonceStr: 'Xk3pQ9zT2vLm8RsX' }],
    ['a package without prepay_id=', { package: 'wx01120530123456789abcdef0123456700' }],
    ['signType MD5', { signType: 'MD5' }],
    ['a garbage paySign', { paySign: '!!' }],
    ['no paySign', { paySign: undefined }],
  ])('refuses %s', (_name, change) => {
    expect(verifyV3PaySign({ ...VECTOR_H, signType: 'RSA', ...change }, MERCHANT_PUBLIC_KEY)).toBe(false);
  });

  it('refuses a paySign checked against another key', () => {
    expect(verifyV3PaySign(VECTOR_H, PLATFORM_PUBLIC_KEY)).toBe(false);
  });
});
