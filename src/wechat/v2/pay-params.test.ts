import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../clock.js';
import { requestPaymentParams, verifyRequestPaymentParams } from './pay-params.js';

const key = 'SimulatorTestKey0123456789abcdef';
const appid = 'wx1234567890abcdef';
const prepayId = 'wx01120530123456789abcdef0123456700';
const clock = createManualClock(1_704_081_930_000);

describe('wx.requestPayment parameters (v2)', () => {
  it("reproduces WeChat's official paySign example (《小程序调起支付API》)", () => {
    const params = requestPaymentParams({
      appid: 'wxd678efh567hg6787',
      prepayId: 'wx2017033010242291fcfe0db70013231072',
      key: 'qazwsxedcrfvtgbyhnujmikolp111111',
      signType: 'MD5',
      clock: createManualClock(1_490_840_662_000),
      nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    });
    expect(params.paySign).toBe('22D9B4E54AB1950F51E0649E8810ACD6');
  });

  it('builds the exact object for the front end, MD5', () => {
    expect(
      requestPaymentParams({ appid, prepayId, key, signType: 'MD5', clock, nonceStr: 'Xk3pQ9zT2vLm8RsW' }),
    ).toEqual({
      timeStamp: '1704081930',
      nonceStr: 'Xk3pQ9zT2vLm8RsW',
      package: 'prepay_id=wx01120530123456789abcdef0123456700',
      signType: 'MD5',
      paySign: 'B2BEB36D6A9357B39127103420BBD362',
    });
  });

  it('signs with HMAC-SHA256 when the order was placed with it', () => {
    const params = requestPaymentParams({
      appid,
      prepayId,
      key,
      signType: 'HMAC-SHA256',
      clock,
      nonceStr: 'Xk3pQ9zT2vLm8RsW',
    });
    expect(params.signType).toBe('HMAC-SHA256');
    expect(params.paySign).toBe('0138DEDEEA66279AC679A698670745FD98B7F955F090EBE913453FE32E16BA5F');
  });

  it('gives timeStamp as a 10-digit string of seconds, truncating milliseconds', () => {
    const params = requestPaymentParams({
      appid,
      prepayId,
      key,
      signType: 'MD5',
      clock: createManualClock(1_704_081_930_999),
    });
    expect(typeof params.timeStamp).toBe('string');
    expect(params.timeStamp).toBe('1704081930');
    expect(params.nonceStr).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('verifies what it builds, and only with the same appid and key', () => {
    const params = requestPaymentParams({ appid, prepayId, key, signType: 'HMAC-SHA256', clock });
    expect(verifyRequestPaymentParams(params, appid, key)).toBe(true);
    expect(verifyRequestPaymentParams(params, 'wx0000000000000000', key)).toBe(false);
    expect(verifyRequestPaymentParams(params, appid, `${key.slice(1)}X`)).toBe(false);
  });

  it.each([
    ['timeStamp in milliseconds', { timeStamp: '1704081930000' }],
    ['timeStamp as a number', { timeStamp: 1704081930 }],
    ['an unknown signType', { signType: 'RSA' }],
    ['a package without prepay_id=', { package: prepayId }],
    ['a lower-case paySign', { paySign: 'b2beb36d6a9357b39127103420bbd362' }],
    ['a truncated paySign', { paySign: 'B2BEB36D6A9357B39127103420BBD36' }],
    ['no paySign', { paySign: undefined }],
    ['a changed nonceStr', { nonceStr: 'Xk3pQ9zT2vLm8RsX' }],
  ])('refuses %s without throwing', (_, change) => {
    const good = requestPaymentParams({
      appid,
      prepayId,
      key,
      signType: 'MD5',
      clock,
      nonceStr: 'Xk3pQ9zT2vLm8RsW',
    });
    expect(verifyRequestPaymentParams(good, appid, key)).toBe(true);
    expect(verifyRequestPaymentParams({ ...good, ...change }, appid, key)).toBe(false);
  });

  it('refuses values that are not objects', () => {
    for (const bad of [null, undefined, 'x', 42])
      expect(verifyRequestPaymentParams(bad, appid, key)).toBe(false);
  });
});
