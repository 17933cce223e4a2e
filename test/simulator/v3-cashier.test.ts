import { afterEach, describe, expect, it } from 'vitest';
import { requestPaymentParams } from '../../src/wechat/v2/pay-params.js';
import { v3PayParams } from '../../src/wechat/v3/pay-params.js';
import { APPID, KEY, orderInput } from './harness.js';
import { MERCHANT_PRIVATE_KEY, startV3Sim, type V3Harness } from './v3-harness.js';

/** The cashier (/sim/pay and its page) verifies a v3 order's RSA paySign, and v2's as before. */

const open: V3Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function sim() {
  const h = await startV3Sim();
  open.push(h);
  return h;
}

const pay = (h: V3Harness, payment: object) =>
  h.json('POST', '/sim/pay', { result: 'SUCCESS', appId: APPID, payment });

describe('the cashier and API v3 orders', () => {
  it('pays a v3 order whose paySign is the merchant’s RSA signature, and refuses MD5 or a forged one', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_CASHIER_001');
    const timeStamp = String(h.nowSeconds());
    const rsa = v3PayParams({ appid: APPID, prepayId, privateKey: MERCHANT_PRIVATE_KEY, timeStamp });
    const md5 = requestPaymentParams({ appid: APPID, prepayId, key: KEY, signType: 'MD5', clock: h.clock });
    const refusals = [
      await pay(h, md5),
      await pay(h, { ...rsa, paySign: md5.paySign }),
      await pay(h, { ...rsa, signType: 'MD5' }),
      await pay(h, { ...rsa, timeStamp: `${timeStamp}000` }),
      await pay(h, { ...rsa, nonceStr: 'another' }),
    ];
    for (const r of refusals)
      expect(r).toMatchObject({ status: 400, body: { errMsg: 'requestPayment:fail 支付验证签名失败' } });
    expect(
      (await h.call('GET', `/v3/pay/transactions/out-trade-no/V3_CASHIER_001?mchid=${'1900000109'}`)).body
        .trade_state,
    ).toBe('NOTPAY');
    expect(await pay(h, rsa)).toMatchObject({ status: 200, body: { errMsg: 'requestPayment:ok' } });
  });

  it('still pays a v2 order with MD5 and refuses an RSA paySign for it', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const { prepayId } = await h
      .client()
      .unifiedOrder(orderInput('V2_CASHIER_001', openid, 'https://m.example/n'));
    const rsa = v3PayParams({
      appid: APPID,
      prepayId,
      privateKey: MERCHANT_PRIVATE_KEY,
      timeStamp: String(h.nowSeconds()),
    });
    expect((await pay(h, rsa)).status).toBe(400);
    const md5 = requestPaymentParams({ appid: APPID, prepayId, key: KEY, signType: 'MD5', clock: h.clock });
    expect(await pay(h, md5)).toMatchObject({ status: 200, body: { errMsg: 'requestPayment:ok' } });
  });

  it('shows the cashier page for a v3 order with its RSA parameters', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_CASHIER_002');
    const rsa = v3PayParams({
      appid: APPID,
      prepayId,
      privateKey: MERCHANT_PRIVATE_KEY,
      timeStamp: String(h.nowSeconds()),
    });
    const query = new URLSearchParams({ appId: APPID, ...rsa });
    const page = await fetch(`${h.url}/sim/cashier?${query}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('1.00');
    expect(html).toContain('"signType":"RSA"');
    expect(html).not.toContain('class="problem"');
  });
});
