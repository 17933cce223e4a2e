import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { WechatRejectedError } from '../../src/wechat/errors.js';
import { formatWechatTime } from '../../src/wechat/v2/fields.js';
import { requestPaymentParams } from '../../src/wechat/v2/pay-params.js';
import { APPID, KEY, orderInput, postRaw, type SimHarness, START_MS, startSim } from './harness.js';

/** The order state machine, re-entry rules, prepay and time_expire lifetimes, and the cashier. */

const NOTIFY = 'http://127.0.0.1:9/payment/notify/v2';
let h: SimHarness;
let openid: string;

beforeEach(async () => {
  h = await startSim();
  openid = (await h.login()).openid;
});
afterEach(() => h.close());

const rejected = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('call should fail'),
    (e) => e,
  );

describe('re-entry', () => {
  it('answers identical re-entry with a fresh prepay_id and keeps one order', async () => {
    const c = h.client();
    const first = await c.unifiedOrder(orderInput('REENTRY_0001', openid, NOTIFY));
    const second = await c.unifiedOrder(orderInput('REENTRY_0001', openid, NOTIFY));
    expect(second.prepayId).not.toBe(first.prepayId);
    expect(second.prepayId).toMatch(/^wx\d{8}[0-9a-f]{20}\d{6}$/);
    expect((await h.json('GET', '/sim/orders')).body.orders).toHaveLength(1);
  });

  it('answers the same prepay_id when configured so', async () => {
    const same = await startSim({ behaviour: { reentryPrepayId: 'same' } });
    try {
      const o = (await same.login()).openid;
      const a = await same.client().unifiedOrder(orderInput('REENTRY_SAME1', o, NOTIFY));
      const b = await same.client().unifiedOrder(orderInput('REENTRY_SAME1', o, NOTIFY));
      expect(b.prepayId).toBe(a.prepayId);
    } finally {
      await same.close();
    }
  });

  it.each([
    ['total_fee', { totalFee: 101 }],
    ['body', { body: '另一个商品' }],
    ['notify_url', { notifyUrl: 'http://127.0.0.1:9/other' }],
  ])('refuses re-entry with a changed %s: INVALID_REQUEST 201 商户订单号重复', async (_f, change) => {
    const c = h.client();
    await c.unifiedOrder(orderInput('REENTRY_0002', openid, NOTIFY));
    const err = await rejected(c.unifiedOrder({ ...orderInput('REENTRY_0002', openid, NOTIFY), ...change }));
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect(err.failure).toEqual({
      layer: 'result',
      errCode: 'INVALID_REQUEST',
      message: '201 商户订单号重复',
    });
  });

  it('uses OUT_TRADE_NO_USED for a conflict when configured so', async () => {
    const alt = await startSim({ behaviour: { reentryConflictCode: 'OUT_TRADE_NO_USED' } });
    try {
      const o = (await alt.login()).openid;
      await alt.client().unifiedOrder(orderInput('REENTRY_0003', o, NOTIFY));
      const err = await rejected(alt.client().unifiedOrder(orderInput('REENTRY_0003', o, NOTIFY, 2)));
      expect(err.failure.errCode).toBe('OUT_TRADE_NO_USED');
    } finally {
      await alt.close();
    }
  });

  it('accepts re-entry that only moves time_expire, and the new deadline wins', async () => {
    const c = h.client();
    const soon = formatWechatTime(START_MS + 10 * 60_000);
    const later = formatWechatTime(START_MS + 60 * 60_000);
    await c.unifiedOrder({ ...orderInput('EXPIRE_MOVE1', openid, NOTIFY), timeExpire: soon });
    await c.unifiedOrder({ ...orderInput('EXPIRE_MOVE1', openid, NOTIFY), timeExpire: later });
    const [order] = (await h.json('GET', '/sim/orders')).body.orders;
    expect(order.time_expire).toBe(new Date(START_MS + 60 * 60_000).toISOString());
  });
});

describe('state machine', () => {
  it('goes NOTPAY → SUCCESS on payment; then unifiedorder and closeorder answer ORDERPAID', async () => {
    const c = h.client();
    const { prepayId } = await c.unifiedOrder(orderInput('STATE_PAID_01', openid, NOTIFY));
    expect((await c.orderQuery({ outTradeNo: 'STATE_PAID_01' })).tradeState).toBe('NOTPAY');
    const paid = await h.pay(prepayId);
    expect(paid.body).toMatchObject({ errMsg: 'requestPayment:ok', trade_state: 'SUCCESS' });
    const q = await c.orderQuery({ outTradeNo: 'STATE_PAID_01' });
    expect(q).toMatchObject({ tradeState: 'SUCCESS', totalFee: 100, cashFee: 100, openid });
    expect(q.transactionId).toBe(paid.body.transaction_id);
    expect(q.timeEnd).toBe('20240101120530');
    expect((await c.orderQuery({ transactionId: q.transactionId! })).outTradeNo).toBe('STATE_PAID_01');
    expect((await rejected(c.unifiedOrder(orderInput('STATE_PAID_01', openid, NOTIFY)))).code).toBe(
      'ORDERPAID',
    );
    expect((await rejected(c.closeOrder({ outTradeNo: 'STATE_PAID_01' }))).code).toBe('ORDERPAID');
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:fail 该订单已支付');
  });

  it('goes NOTPAY → CLOSED on closeorder; then pay, re-entry and a second close are refused', async () => {
    const c = h.client();
    const { prepayId } = await c.unifiedOrder(orderInput('STATE_CLOSE_1', openid, NOTIFY));
    await c.closeOrder({ outTradeNo: 'STATE_CLOSE_1' });
    expect((await c.orderQuery({ outTradeNo: 'STATE_CLOSE_1' })).tradeState).toBe('CLOSED');
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:fail 订单已关闭');
    expect((await rejected(c.unifiedOrder(orderInput('STATE_CLOSE_1', openid, NOTIFY)))).code).toBe(
      'ORDERCLOSED',
    );
    expect((await rejected(c.closeOrder({ outTradeNo: 'STATE_CLOSE_1' }))).code).toBe('ORDERCLOSED');
  });

  it('keeps NOTPAY on CANCEL and goes to PAYERROR on FAIL', async () => {
    const c = h.client();
    const { prepayId } = await c.unifiedOrder(orderInput('STATE_CANCEL1', openid, NOTIFY));
    expect((await h.pay(prepayId, 'CANCEL')).body).toEqual({ errMsg: 'requestPayment:fail cancel' });
    expect((await c.orderQuery({ outTradeNo: 'STATE_CANCEL1' })).tradeState).toBe('NOTPAY');
    expect((await h.pay(prepayId, 'FAIL')).body.trade_state).toBe('PAYERROR');
    const q = await c.orderQuery({ outTradeNo: 'STATE_CANCEL1' });
    expect([q.tradeState, q.tradeStateDesc]).toEqual(['PAYERROR', '支付失败，请重新下单支付']);
  });

  it('answers ORDERNOTEXIST for an order that was never created', async () => {
    expect((await rejected(h.client().orderQuery({ outTradeNo: 'NEVER_MADE_01' }))).code).toBe(
      'ORDERNOTEXIST',
    );
    expect((await rejected(h.client().closeOrder({ outTradeNo: 'NEVER_MADE_01' }))).code).toBe(
      'ORDERNOTEXIST',
    );
  });

  it('closes within 5 minutes by default, and answers SYSTEMERROR when the rule is enforced', async () => {
    await h.client().unifiedOrder(orderInput('CLOSE_EARLY_1', openid, NOTIFY));
    await h.client().closeOrder({ outTradeNo: 'CLOSE_EARLY_1' });
    const strict = await startSim({ behaviour: { closeOrderRule: 'systemerror' } });
    try {
      const o = (await strict.login()).openid;
      await strict.client().unifiedOrder(orderInput('CLOSE_EARLY_2', o, NOTIFY));
      expect((await rejected(strict.client().closeOrder({ outTradeNo: 'CLOSE_EARLY_2' }))).code).toBe(
        'SYSTEMERROR',
      );
      await strict.clock.advance(300_000);
      await strict.client().closeOrder({ outTradeNo: 'CLOSE_EARLY_2' });
    } finally {
      await strict.close();
    }
  });
});

describe('lifetimes', () => {
  it('refuses a prepay_id older than 2 hours; re-entry gives a fresh one that pays', async () => {
    const c = h.client();
    const { prepayId } = await c.unifiedOrder(orderInput('PREPAY_2H_001', openid, NOTIFY));
    await h.clock.advance(7200_000);
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:fail prepay_id已失效，请重新下单');
    const fresh = await c.unifiedOrder(orderInput('PREPAY_2H_001', openid, NOTIFY));
    expect((await h.pay(fresh.prepayId)).body.errMsg).toBe('requestPayment:ok');
  });

  it('refuses payment after time_expire while orderquery keeps answering NOTPAY', async () => {
    const c = h.client();
    const expire = formatWechatTime(START_MS + 5 * 60_000);
    const { prepayId } = await c.unifiedOrder({
      ...orderInput('EXPIRE_0001', openid, NOTIFY),
      timeExpire: expire,
    });
    await h.clock.advance(5 * 60_000);
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:fail 订单已过期');
    expect((await c.orderQuery({ outTradeNo: 'EXPIRE_0001' })).tradeState).toBe('NOTPAY');
  });

  it('raises a time_expire under one minute to one minute', async () => {
    const expire = formatWechatTime(START_MS + 10_000);
    await h.client().unifiedOrder({ ...orderInput('EXPIRE_CLAMP1', openid, NOTIFY), timeExpire: expire });
    const [order] = (await h.json('GET', '/sim/orders')).body.orders;
    expect(order.time_expire).toBe(new Date(START_MS + 60_000).toISOString());
  });
});

describe('wx.requestPayment as the WeChat client checks it', () => {
  const params = (prepayId: string, over: Partial<{ key: string; signType: 'MD5' | 'HMAC-SHA256' }> = {}) =>
    requestPaymentParams({
      appid: APPID,
      prepayId,
      key: over.key ?? KEY,
      signType: over.signType ?? 'MD5',
      clock: createManualClock(START_MS),
    });

  it('pays with parameters signed by the protocol layer', async () => {
    const { prepayId } = await h.client().unifiedOrder(orderInput('CLIENT_PAY_01', openid, NOTIFY));
    const res = await h.json('POST', '/sim/pay', {
      result: 'SUCCESS',
      appId: APPID,
      payment: params(prepayId),
    });
    expect(res.status).toBe(200);
    expect(res.body.errMsg).toBe('requestPayment:ok');
  });

  it.each([
    [
      'a paySign made with another key',
      (p: ReturnType<typeof params>) => ({ ...p, paySign: params('x', { key: 'K'.repeat(32) }).paySign }),
    ],
    [
      'a timeStamp in milliseconds',
      (p: ReturnType<typeof params>) => ({ ...p, timeStamp: `${p.timeStamp}000` }),
    ],
    ['a numeric timeStamp', (p: ReturnType<typeof params>) => ({ ...p, timeStamp: Number(p.timeStamp) })],
    [
      'the unifiedorder sign reused as paySign',
      (p: ReturnType<typeof params>) => ({ ...p, paySign: '55759E2E0D09A1A86A2FAD3E5217B23D' }),
    ],
  ])('refuses %s: 400 支付验证签名失败, order stays NOTPAY', async (_n, spoil) => {
    const { prepayId } = await h.client().unifiedOrder(orderInput('CLIENT_BAD_01', openid, NOTIFY));
    const res = await h.json('POST', '/sim/pay', {
      result: 'SUCCESS',
      appId: APPID,
      payment: spoil(params(prepayId)),
    });
    expect(res).toEqual({ status: 400, body: { errMsg: 'requestPayment:fail 支付验证签名失败' } });
    expect((await h.client().orderQuery({ outTradeNo: 'CLIENT_BAD_01' })).tradeState).toBe('NOTPAY');
  });

  it('refuses HMAC paySign for an MD5 order, and another user paying', async () => {
    const { prepayId } = await h.client().unifiedOrder(orderInput('CLIENT_BAD_02', openid, NOTIFY));
    const hmac = params(prepayId, { signType: 'HMAC-SHA256' });
    expect(
      (await h.json('POST', '/sim/pay', { result: 'SUCCESS', appId: APPID, payment: hmac })).status,
    ).toBe(400);
    const other = await h.json('POST', '/sim/pay', {
      prepay_id: prepayId,
      result: 'SUCCESS',
      openid: 'oSomeoneElse',
    });
    expect(other.body.errMsg).toBe('requestPayment:fail 下单账号与支付账号不一致');
  });
});

describe('cashier page', () => {
  it('shows amount, merchant and description, can be framed, and forwards payment parameters', async () => {
    const { prepayId } = await h.client().unifiedOrder(orderInput('CASHIER_0001', openid, NOTIFY, 1234));
    const p = new URLSearchParams({
      appId: APPID,
      ...requestPaymentParams({
        appid: APPID,
        prepayId,
        key: KEY,
        signType: 'MD5',
        clock: createManualClock(START_MS),
      }),
    });
    const res = await postRaw(`${h.url}/sim/cashier?${p}`, undefined, 'GET');
    expect(res.status).toBe(200);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBe('frame-ancestors *');
    expect(res.text).toContain('<small>¥</small>12.34');
    expect(res.text).toContain('测试商户');
    expect(res.text).toContain('测试商品-咖啡');
    expect(res.text).toContain('确认支付');
    expect(res.text).toContain("type:'weapp-pay-sim:payment'");
    expect(res.text).toContain(`"paySign":"${p.get('paySign')}"`);
    expect(res.text).not.toContain(KEY);
  });

  it('explains an unknown prepay_id instead of offering to pay', async () => {
    const res = await postRaw(`${h.url}/sim/cashier?prepay_id=wx_unknown`, undefined, 'GET');
    expect(res.text).toContain('订单不存在');
    expect(res.text).not.toContain('确认支付');
  });

  it('speaks English with ?lang=en, and Chinese otherwise', async () => {
    const res = await postRaw(`${h.url}/sim/cashier?prepay_id=wx_unknown&lang=en`, undefined, 'GET');
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('No such order: unknown prepay_id');
    expect(res.text).toContain('>Close</button>');
    expect(res.text).not.toMatch(/[\u4e00-\u9fff]/);
  });
});
