import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatWechatTime } from '../../src/wechat/v2/fields.js';
import {
  MCH_ID,
  OTHER_APPID,
  OTHER_KEY,
  OTHER_MCH_ID,
  orderInput,
  postRaw,
  type SimHarness,
  START_MS,
  signedXml,
  startSim,
} from './harness.js';

/**
 * The unifiedorder rules a shop meets when it goes live: what re-entry may change, state before
 * parameters, which layer answers a foreign appid, and how long an order without time_expire lives.
 */

const NOTIFY = 'http://127.0.0.1:9/payment/notify/v2';
const DAY_MS = 24 * 3600_000;
let h: SimHarness;
let openid: string;

beforeEach(async () => {
  h = await startSim();
  openid = (await h.login()).openid;
});
afterEach(() => h.close());

/** A raw signed unifiedorder, so optional fields can be added and dropped at will. */
const rawOrder = (fields: Record<string, string>, key?: string) =>
  postRaw(`${h.url}/pay/unifiedorder`, signedXml(fields, key));
const orderFields = (outTradeNo: string, extra: Record<string, string> = {}) => ({
  body: '测试商品-咖啡',
  out_trade_no: outTradeNo,
  total_fee: '100',
  spbill_create_ip: '127.0.0.1',
  notify_url: NOTIFY,
  trade_type: 'JSAPI',
  openid,
  ...extra,
});
const DUPLICATE = { result_code: 'FAIL', err_code: 'INVALID_REQUEST', err_code_des: '201 商户订单号重复' };

describe('re-entry of unifiedorder', () => {
  it('accepts a retry from a new network: only spbill_create_ip and nonce_str changed', async () => {
    const first = await rawOrder(orderFields('REENTRY_IP_01'));
    const again = await rawOrder(orderFields('REENTRY_IP_01', { spbill_create_ip: '2001:db8::7' }));
    expect(again.fields.result_code).toBe('SUCCESS');
    expect(again.fields.prepay_id).not.toBe(first.fields.prepay_id);
    expect((await h.json('GET', '/sim/orders')).body.orders).toHaveLength(1);
  });

  it('accepts a retry signed with the other algorithm: sign and sign_type are not order parameters', async () => {
    await rawOrder(orderFields('REENTRY_SIGN1'));
    const hmac = await postRaw(
      `${h.url}/pay/unifiedorder`,
      signedXml(orderFields('REENTRY_SIGN1'), undefined, 'HMAC-SHA256'),
    );
    expect(hmac.fields.result_code).toBe('SUCCESS');
    const [order] = (await h.json('GET', '/sim/orders')).body.orders;
    expect(order.sign_type).toBe('HMAC-SHA256');
  });

  it.each([
    ['adds an optional parameter', {}, { attach: 'cart=7' }],
    ['drops an optional parameter', { attach: 'cart=7' }, {}],
    ['changes an optional parameter', { goods_tag: 'A' }, { goods_tag: 'B' }],
    ['changes time_start', {}, { time_start: '20240101120000' }],
  ])('refuses a retry that %s with INVALID_REQUEST 201 商户订单号重复', async (_name, before, after) => {
    await rawOrder(orderFields('REENTRY_OPT_1', before));
    const again = await rawOrder(orderFields('REENTRY_OPT_1', after));
    expect(again.fields).toMatchObject(DUPLICATE);
  });
});

describe('state before parameters', () => {
  it('answers ORDERPAID, not INVALID_REQUEST, for a paid order ordered again with another amount', async () => {
    const { prepayId } = await h.client().unifiedOrder(orderInput('STATE_FIRST_1', openid, NOTIFY));
    await h.pay(prepayId);
    const again = await rawOrder(orderFields('STATE_FIRST_1', { total_fee: '200' }));
    expect(again.fields).toMatchObject({ err_code: 'ORDERPAID', err_code_des: '该订单已支付' });
  });

  it('answers ORDERPAID to an identical retry sent after the order’s time_expire has passed', async () => {
    const expire = formatWechatTime(START_MS + 10 * 60_000);
    const input = { ...orderInput('STATE_FIRST_3', openid, NOTIFY), timeExpire: expire };
    await h.pay((await h.client().unifiedOrder(input)).prepayId);
    await h.clock.advance(11 * 60_000);
    const again = await rawOrder(orderFields('STATE_FIRST_3', { time_expire: expire }));
    expect(again.fields).toMatchObject({ err_code: 'ORDERPAID' });
  });

  it('answers ORDERCLOSED to an identical retry after time_expire, without moving the deadline', async () => {
    const expire = formatWechatTime(START_MS + 5 * 60_000);
    await rawOrder(orderFields('STATE_FIRST_4', { time_expire: expire }));
    await h.clock.advance(5 * 60_000 - 30_000);
    const late = await rawOrder(orderFields('STATE_FIRST_4', { time_expire: expire }));
    expect(late.fields.result_code).toBe('SUCCESS');
    await h.clock.advance(30_000);
    const expired = await rawOrder(orderFields('STATE_FIRST_4', { time_expire: expire }));
    expect(expired.fields).toMatchObject({ err_code: 'ORDERCLOSED' });
    const [order] = (await h.json('GET', '/sim/orders')).body.orders;
    expect(order.time_expire).toBe(new Date(START_MS + 5 * 60_000).toISOString());
  });

  it('answers ORDERCLOSED, not INVALID_REQUEST, for a closed order ordered again with another body', async () => {
    await h.client().unifiedOrder(orderInput('STATE_FIRST_2', openid, NOTIFY));
    await h.client().closeOrder({ outTradeNo: 'STATE_FIRST_2' });
    const again = await rawOrder(orderFields('STATE_FIRST_2', { body: '另一个商品' }));
    expect(again.fields).toMatchObject({ err_code: 'ORDERCLOSED' });
  });
});

describe('appid of another merchant', () => {
  it('answers return_code FAIL appid和mch_id不匹配, unsigned, and creates nothing', async () => {
    const res = await rawOrder(orderFields('FOREIGN_APP_1', { appid: OTHER_APPID }));
    expect(res.fields).toEqual({ return_code: 'FAIL', return_msg: 'appid和mch_id不匹配' });
    const other = await rawOrder(orderFields('FOREIGN_APP_2', { mch_id: OTHER_MCH_ID }), OTHER_KEY);
    expect(other.fields).toEqual({ return_code: 'FAIL', return_msg: 'appid和mch_id不匹配' });
    expect((await h.json('GET', '/sim/orders')).body.orders).toEqual([]);
  });

  it('answers the signed business error APPID_MCHID_NOT_MATCH with appidMchMismatch: err_code', async () => {
    const old = await startSim({ behaviour: { appidMchMismatch: 'err_code' } });
    try {
      const res = await postRaw(
        `${old.url}/pay/unifiedorder`,
        signedXml({ ...orderFields('FOREIGN_APP_3'), appid: OTHER_APPID }),
      );
      expect(res.fields).toMatchObject({ return_code: 'SUCCESS', err_code: 'APPID_MCHID_NOT_MATCH' });
      expect(res.fields.sign).toBeTruthy();
    } finally {
      await old.close();
    }
  });
});

describe('order lifetime without time_expire', () => {
  /** Places an order, then keeps it payable by re-entering just before the prepay_id dies. */
  async function orderAged(sim: SimHarness, outTradeNo: string, o: string, ageMs: number) {
    await sim.client().unifiedOrder(orderInput(outTradeNo, o, NOTIFY));
    await sim.clock.advance(ageMs - 60_000);
    const fresh = await sim.client().unifiedOrder(orderInput(outTradeNo, o, NOTIFY));
    await sim.clock.advance(60_000);
    return fresh.prepayId;
  }

  it('can still be paid just before 7 days', async () => {
    const prepayId = await orderAged(h, 'LIFETIME_0001', openid, 7 * DAY_MS - 1000);
    const [order] = (await h.json('GET', '/sim/orders')).body.orders;
    expect([order.time_expire, order.payable_until]).toEqual([
      null,
      new Date(START_MS + 7 * DAY_MS).toISOString(),
    ]);
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:ok');
  });

  it('is refused by /sim/pay and the cashier page after 7 days; orderquery keeps NOTPAY', async () => {
    const prepayId = await orderAged(h, 'LIFETIME_0002', openid, 7 * DAY_MS);
    expect((await h.pay(prepayId)).body.errMsg).toBe('requestPayment:fail 订单已过期');
    const page = await request(`${h.url}/sim/cashier?prepay_id=${prepayId}`);
    expect(await page.body.text()).toContain('订单已过期');
    expect((await h.client().orderQuery({ outTradeNo: 'LIFETIME_0002' })).tradeState).toBe('NOTPAY');
    const reentry = await rawOrder(orderFields('LIFETIME_0002', { total_fee: '100' }));
    expect(reentry.fields).toMatchObject({ err_code: 'ORDERCLOSED' });
  });

  it('reports CLOSED after the lifetime with expiredOrderState: CLOSED', async () => {
    const closing = await startSim({ behaviour: { expiredOrderState: 'CLOSED' } });
    try {
      const o = (await closing.login()).openid;
      await orderAged(closing, 'LIFETIME_0003', o, 7 * DAY_MS);
      expect((await closing.client().orderQuery({ outTradeNo: 'LIFETIME_0003' })).tradeState).toBe('CLOSED');
    } finally {
      await closing.close();
    }
  });

  it('follows orderLifetimeDays: with 30, an order is paid 20 days later', async () => {
    const long = await startSim({ behaviour: { orderLifetimeDays: 30 } });
    try {
      const o = (await long.login()).openid;
      const prepayId = await orderAged(long, 'LIFETIME_0004', o, 20 * DAY_MS);
      expect((await long.pay(prepayId)).body.errMsg).toBe('requestPayment:ok');
    } finally {
      await long.close();
    }
  });
});

describe('time_expire already in the past', () => {
  // A Beijing deadline written in UTC lands eight hours early: the classic way to get here.
  const past = formatWechatTime(START_MS - 60_000);

  it('is refused with INVALID_REQUEST and creates nothing', async () => {
    const res = await rawOrder(orderFields('PAST_EXPIRE_1', { time_expire: past }));
    expect(res.fields).toMatchObject({ result_code: 'FAIL', err_code: 'INVALID_REQUEST' });
    expect(res.fields.err_code_des).toContain('time_expire');
    expect((await h.json('GET', '/sim/orders', undefined)).body.orders).toEqual([]);
  });

  it('is raised to now + 60 s with timeExpireInPast: clamp', async () => {
    const lax = await startSim({ behaviour: { timeExpireInPast: 'clamp' } });
    try {
      const o = (await lax.login()).openid;
      await lax.client().unifiedOrder({ ...orderInput('PAST_EXPIRE_2', o, NOTIFY), timeExpire: past });
      const [order] = (await lax.json('GET', '/sim/orders')).body.orders;
      expect([order.mch_id, order.time_expire]).toEqual([MCH_ID, new Date(START_MS + 60_000).toISOString()]);
    } finally {
      await lax.close();
    }
  });
});
