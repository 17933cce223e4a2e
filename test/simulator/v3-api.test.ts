import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptAeadAes256Gcm } from '../../src/wechat/v3/aead.js';
import { signRequestV3 } from '../../src/wechat/v3/sign.js';
import { APPID, MCH_ID, OTHER_APPID, orderInput, postRaw, START_MS, signedXml } from './harness.js';
import {
  API_V3_KEY,
  jsapiBody,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
  startV3Sim,
  type V3Harness,
} from './v3-harness.js';

/** The v3 routes over HTTP: happy paths, WeChat's errors, and one order store shared with v2. */

const open: V3Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function sim(options: Parameters<typeof startV3Sim>[0] = {}) {
  const h = await startV3Sim(options);
  open.push(h);
  return h;
}

const query = (no: string) => `/v3/pay/transactions/out-trade-no/${no}?mchid=${MCH_ID}`;

describe('POST /v3/pay/transactions/jsapi', () => {
  it('creates an order answered with a prepay_id, visible as NOTPAY', async () => {
    const h = await sim();
    const { prepayId, openid } = await h.order('V3_ORDER_0001');
    expect(prepayId).toMatch(/^wx[0-9a-f]{8}/);
    const q = await h.call('GET', query('V3_ORDER_0001'));
    expect(q.status).toBe(200);
    const [view] = (await h.json('GET', '/sim/orders?out_trade_no=V3_ORDER_0001')).body.orders;
    expect(view).toMatchObject({ api: 'v3', sign_type: 'RSA', prepay_id: prepayId });
    expect(q.body).toEqual({
      appid: APPID,
      mchid: MCH_ID,
      out_trade_no: 'V3_ORDER_0001',
      trade_type: 'JSAPI',
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
      payer: { openid },
      amount: { total: 100, currency: 'CNY' },
    });
  });

  it('answers a new prepay_id to identical re-entry and 400 INVALID_REQUEST to a changed one', async () => {
    const h = await sim();
    const { prepayId, openid } = await h.order('V3_REENTRY_01');
    const again = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('V3_REENTRY_01', openid, 'https://merchant.example/notify'),
    );
    expect(again.status).toBe(200);
    expect(again.body.prepay_id).not.toBe(prepayId);
    const changed = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('V3_REENTRY_01', openid, 'https://merchant.example/notify', 200),
    );
    expect(changed.status).toBe(400);
    expect(changed.body).toEqual({ code: 'INVALID_REQUEST', message: '201 商户订单号重复' });
  });

  it('refuses re-entry of a paid order with ORDERPAID (400 by default, the knob says 403) and of a closed one with ORDER_CLOSED', async () => {
    for (const status of [400, 403] as const) {
      const h = await sim({ behaviour: { v3OrderPaidStatus: status } });
      const { prepayId, openid } = await h.order('V3_PAID_00001');
      await h.pay(prepayId);
      const res = await h.call(
        'POST',
        '/v3/pay/transactions/jsapi',
        jsapiBody('V3_PAID_00001', openid, 'https://merchant.example/notify'),
      );
      expect(res.status).toBe(status);
      expect(res.body.code).toBe('ORDERPAID');
    }
    const h = await sim();
    const { openid } = await h.order('V3_CLOSED_0001');
    expect(
      (await h.call('POST', '/v3/pay/transactions/out-trade-no/V3_CLOSED_0001/close', { mchid: MCH_ID }))
        .status,
    ).toBe(204);
    const res = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('V3_CLOSED_0001', openid, 'https://merchant.example/notify'),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ORDER_CLOSED');
  });

  it('answers 400 PARAM_ERROR with a JSON pointer for a missing or mistyped field, and creates nothing', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const body: Record<string, unknown> = jsapiBody(
      'V3_BAD_000001',
      openid,
      'https://merchant.example/notify',
    );
    delete body.payer;
    const missing = await h.call('POST', '/v3/pay/transactions/jsapi', body);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      code: 'PARAM_ERROR',
      detail: { field: '#/properties/payer', location: 'body' },
    });
    const typed = await h.call('POST', '/v3/pay/transactions/jsapi', {
      ...jsapiBody('V3_BAD_000001', openid, 'https://m.example/n'),
      amount: { total: '1' },
    });
    expect(typed.body).toMatchObject({
      code: 'PARAM_ERROR',
      detail: { field: '#/properties/amount/properties/total' },
    });
    const zero = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('V3_BAD_000001', openid, 'https://m.example/n', 0),
    );
    expect(zero).toMatchObject({ status: 400, body: { code: 'PARAM_ERROR' } });
    const notJson = await h.call('POST', '/v3/pay/transactions/jsapi', '{"appid":');
    expect(notJson).toMatchObject({ status: 400, body: { code: 'PARAM_ERROR' } });
    expect((await h.call('GET', query('V3_BAD_000001'))).status).toBe(404);
  });

  it('refuses an appid of another merchant (APPID_MCHID_NOT_MATCH) and an openid of another appid (PARAM_ERROR)', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const other = await h.call('POST', '/v3/pay/transactions/jsapi', {
      ...jsapiBody('V3_APPID_0001', openid, 'https://m.example/n'),
      appid: OTHER_APPID,
    });
    expect(other).toMatchObject({ status: 400, body: { code: 'APPID_MCHID_NOT_MATCH' } });
    const stranger = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('V3_APPID_0001', 'oUnknownOpenid000000000000000', 'https://m.example/n'),
    );
    expect(stranger).toMatchObject({ status: 400, body: { code: 'PARAM_ERROR' } });
  });
});

describe('GET query by out_trade_no and by transaction_id', () => {
  it('answers the paid Transaction with transaction_id, success_time and payer_total', async () => {
    const h = await sim();
    const { prepayId, openid } = await h.order('V3_QUERY_0001');
    const paid = await h.pay(prepayId);
    const txid = paid.body.transaction_id as string;
    const byNo = await h.call('GET', query('V3_QUERY_0001'));
    const byId = await h.call('GET', `/v3/pay/transactions/id/${txid}?mchid=${MCH_ID}`);
    expect(byNo.body).toEqual(byId.body);
    expect(byNo.body).toEqual({
      appid: APPID,
      mchid: MCH_ID,
      out_trade_no: 'V3_QUERY_0001',
      transaction_id: txid,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: '2024-01-01T12:05:30+08:00',
      payer: { openid },
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    });
  });

  it('answers 404 ORDER_NOT_EXIST (or ORDERNOTEXIST by the knob), and PARAM_ERROR without mchid', async () => {
    const h = await sim();
    expect(await h.call('GET', query('NO_SUCH_ORDER'))).toMatchObject({
      status: 404,
      body: { code: 'ORDER_NOT_EXIST' },
    });
    expect(
      await h.call('GET', `/v3/pay/transactions/id/4200000000202401010000000001?mchid=${MCH_ID}`),
    ).toMatchObject({
      status: 404,
      body: { code: 'ORDER_NOT_EXIST' },
    });
    expect(await h.call('GET', '/v3/pay/transactions/out-trade-no/NO_SUCH_ORDER')).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR' },
    });
    const knob = await sim({ behaviour: { v3OrderNotExistCode: 'ORDERNOTEXIST' } });
    expect((await knob.call('GET', query('NO_SUCH_ORDER'))).body.code).toBe('ORDERNOTEXIST');
  });
});

describe('one order store for v2 and v3', () => {
  it('queries through v3 an order made and paid through v2, and through v2 one made through v3', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const v2 = h.client();
    const { prepayId } = await v2.unifiedOrder(orderInput('CROSS_V2_0001', openid, 'https://m.example/n'));
    await h.pay(prepayId);
    const viaV3 = await h.call('GET', query('CROSS_V2_0001'));
    expect(viaV3.body).toMatchObject({ trade_state: 'SUCCESS', amount: { total: 100 }, payer: { openid } });

    await h.order('CROSS_V3_0001');
    const viaV2 = await v2.orderQuery({ outTradeNo: 'CROSS_V3_0001' });
    expect(viaV2).toMatchObject({ tradeState: 'NOTPAY', totalFee: 100 });
  });

  it('closes through v3 an order made through v2, after which v2 sees it CLOSED', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const v2 = h.client();
    await v2.unifiedOrder(orderInput('CROSS_CLOSE_01', openid, 'https://m.example/n'));
    expect(
      (await h.call('POST', '/v3/pay/transactions/out-trade-no/CROSS_CLOSE_01/close', { mchid: MCH_ID }))
        .status,
    ).toBe(204);
    expect(await v2.orderQuery({ outTradeNo: 'CROSS_CLOSE_01' })).toMatchObject({ tradeState: 'CLOSED' });
  });
});

describe('POST …/close', () => {
  it('answers 204 with an empty body; twice is 204 again (or ORDER_CLOSED by the knob); paid is ORDERPAID; unknown is 404', async () => {
    const h = await sim();
    await h.order('V3_CLOSE_0001');
    const path = '/v3/pay/transactions/out-trade-no/V3_CLOSE_0001/close';
    const first = await h.call('POST', path, { mchid: MCH_ID });
    expect(first).toMatchObject({ status: 204, text: '' });
    expect((await h.call('POST', path, { mchid: MCH_ID })).status).toBe(204);
    expect((await h.call('GET', query('V3_CLOSE_0001'))).body.trade_state).toBe('CLOSED');
    const { prepayId } = await h.order('V3_CLOSE_PAID');
    await h.pay(prepayId);
    expect(
      await h.call('POST', '/v3/pay/transactions/out-trade-no/V3_CLOSE_PAID/close', { mchid: MCH_ID }),
    ).toMatchObject({
      status: 400,
      body: { code: 'ORDERPAID' },
    });
    expect(
      await h.call('POST', '/v3/pay/transactions/out-trade-no/NO_SUCH_ORDER/close', { mchid: MCH_ID }),
    ).toMatchObject({
      status: 404,
      body: { code: 'ORDER_NOT_EXIST' },
    });
    expect((await h.call('POST', path, {})).body.code).toBe('PARAM_ERROR');

    const knob = await sim({ behaviour: { v3CloseClosedOrder: 'ORDER_CLOSED' } });
    await knob.order('V3_CLOSE_0002');
    const p2 = '/v3/pay/transactions/out-trade-no/V3_CLOSE_0002/close';
    expect((await knob.call('POST', p2, { mchid: MCH_ID })).status).toBe(204);
    expect(await knob.call('POST', p2, { mchid: MCH_ID })).toMatchObject({
      status: 400,
      body: { code: 'ORDER_CLOSED' },
    });
  });
});

describe('refunds', () => {
  const refundBody = (no: string, refund = 40, total = 100) => ({
    out_trade_no: 'V3_REFUND_001',
    out_refund_no: no,
    reason: '不想要了',
    amount: { refund, total, currency: 'CNY' },
  });

  it('accepts a refund as PROCESSING, SUCCESS after the delay, the same refund for the same out_refund_no', async () => {
    const h = await sim({ behaviour: { refundDelaySeconds: 60 } });
    const { prepayId } = await h.order('V3_REFUND_001');
    const txid = (await h.pay(prepayId)).body.transaction_id;
    const res = await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0001'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      out_refund_no: 'V3_RF_0001',
      out_trade_no: 'V3_REFUND_001',
      transaction_id: txid,
      status: 'PROCESSING',
      channel: 'ORIGINAL',
      create_time: '2024-01-01T12:05:30+08:00',
      amount: { total: 100, refund: 40, payer_total: 100, payer_refund: 40, currency: 'CNY' },
    });
    expect(res.body.refund_id).toMatch(/^\d{29}$/);
    const again = await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0001'));
    expect(again.body.refund_id).toBe(res.body.refund_id);
    await h.clock.advance(60_000);
    const q = await h.call('GET', '/v3/refund/domestic/refunds/V3_RF_0001');
    expect(q.body).toMatchObject({
      status: 'SUCCESS',
      success_time: '2024-01-01T12:06:30+08:00',
      refund_id: res.body.refund_id,
    });
    expect((await h.call('GET', query('V3_REFUND_001'))).body.trade_state).toBe('REFUND');
  });

  it('refuses what v2 refuses: other amounts for the same number, more than paid, an unpaid order, and answers 404 for an unknown refund', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_REFUND_001');
    await h.pay(prepayId);
    await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0002'));
    expect(await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0002', 50))).toMatchObject({
      status: 400,
      body: { code: 'INVALID_REQUEST' },
    });
    expect(await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0003', 61))).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR' },
    });
    expect(
      await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0003', 10, 99)),
    ).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR' },
    });
    await h.order('V3_UNPAID_001');
    expect(
      await h.call('POST', '/v3/refund/domestic/refunds', {
        ...refundBody('V3_RF_0004'),
        out_trade_no: 'V3_UNPAID_001',
      }),
    ).toMatchObject({ status: 404 });
    expect(
      await h.call('POST', '/v3/refund/domestic/refunds', {
        out_refund_no: 'X1',
        amount: { refund: 1, total: 100, currency: 'CNY' },
      }),
    ).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR' },
    });
    expect(await h.call('GET', '/v3/refund/domestic/refunds/NO_SUCH_REFUND')).toMatchObject({
      status: 404,
      body: { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' },
    });
  });

  it('shows a v3 refund to v2 refundquery and a v2 refund to the v3 query', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_REFUND_001');
    await h.pay(prepayId);
    await h.call('POST', '/v3/refund/domestic/refunds', refundBody('V3_RF_0005', 30));
    const v2 = h.client();
    expect(await v2.refundQuery({ outRefundNo: 'V3_RF_0005' })).toMatchObject({
      refunds: [{ refundFee: 30 }],
    });
    const fields = {
      out_trade_no: 'V3_REFUND_001',
      out_refund_no: 'V2_RF_0001',
      total_fee: '100',
      refund_fee: '20',
    };
    expect((await postRaw(`${h.url}/secapi/pay/refund`, signedXml(fields))).fields.result_code).toBe(
      'SUCCESS',
    );
    expect((await h.call('GET', '/v3/refund/domestic/refunds/V2_RF_0001')).body).toMatchObject({
      out_refund_no: 'V2_RF_0001',
      amount: { refund: 20, total: 100 },
    });
  });
});

describe('GET /v3/bill/tradebill', () => {
  it('answers SHA1 and a download_url whose unsigned file is the day’s bill', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_BILL_00001');
    await h.pay(prepayId);
    expect(await h.call('GET', '/v3/bill/tradebill?bill_date=2024-01-01')).toMatchObject({
      status: 400,
      body: { code: 'STATEMENT_CREATING' },
    });
    await h.clock.advance(24 * 3600_000);
    const res = await h.call('GET', '/v3/bill/tradebill?bill_date=2024-01-01&bill_type=ALL');
    expect(res.status).toBe(200);
    expect(res.body.hash_type).toBe('SHA1');
    const url = new URL(res.body.download_url);
    expect(url.pathname).toBe('/v3/billdownload/file');
    const file = await h.call('GET', `${url.pathname}${url.search}`);
    expect(file.status).toBe(200);
    expect(file.headers['wechatpay-signature']).toBeUndefined();
    expect(createHash('sha1').update(file.text).digest('hex')).toBe(res.body.hash_value);
    expect(file.text).toContain('`V3_BILL_00001');
    expect(await h.call('GET', '/v3/bill/tradebill?bill_date=2023-12-30')).toMatchObject({
      status: 400,
      body: { code: 'NO_STATEMENT_EXIST' },
    });
    expect(await h.call('GET', '/v3/bill/tradebill?bill_date=20240101')).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR' },
    });
  });
});

describe('GET /v3/certificates', () => {
  it('lists platform certificates encrypted with the APIv3 key, associated_data "certificate"', async () => {
    const h = await sim({ v3: { v3KeyMode: 'certificate' } });
    const res = await h.call('GET', '/v3/certificates');
    expect(res.status).toBe(200);
    const [entry] = res.body.data;
    const published = await h.keys();
    expect(entry.serial_no).toBe(published.certificates[0]!.serial);
    expect(entry.encrypt_certificate).toMatchObject({
      algorithm: 'AEAD_AES_256_GCM',
      associated_data: 'certificate',
    });
    const pem = decryptAeadAes256Gcm({
      key: API_V3_KEY,
      nonce: entry.encrypt_certificate.nonce,
      associatedData: 'certificate',
      ciphertext: entry.encrypt_certificate.ciphertext,
    });
    expect(pem).toEqual({ ok: true, plaintext: published.certificates[0]!.pem });
    expect(Date.parse(entry.effective_time)).toBeLessThanOrEqual(START_MS);
  });
});

it('signs requests with the test merchant key (sanity check of the fixture)', () => {
  const header = signRequestV3({
    method: 'GET',
    pathWithQuery: '/v3/certificates',
    body: '',
    mchid: MCH_ID,
    serialNo: MERCHANT_SERIAL,
    privateKey: MERCHANT_PRIVATE_KEY,
    timestamp: 1704081930,
    nonce: 'N',
  });
  expect(header).toContain(`serial_no="${MERCHANT_SERIAL}"`);
});

describe('time_expire', () => {
  it('is 7 days when absent, lowered to 90 days when later, and accepted as RFC 3339', async () => {
    const h = await sim();
    await h.order('V3_EXPIRE_0001');
    const { openid } = await h.login();
    const far = {
      ...jsapiBody('V3_EXPIRE_0002', openid, 'https://m.example/n'),
      time_expire: '2024-12-31T00:00:00+08:00',
    };
    expect((await h.call('POST', '/v3/pay/transactions/jsapi', far)).status).toBe(200);
    const bad = {
      ...jsapiBody('V3_EXPIRE_0003', openid, 'https://m.example/n'),
      time_expire: '20240101120000',
    };
    expect(await h.call('POST', '/v3/pay/transactions/jsapi', bad)).toMatchObject({
      status: 400,
      body: { code: 'PARAM_ERROR', detail: { field: '#/properties/time_expire' } },
    });
    const orders = (await h.json('GET', '/sim/orders')).body.orders as {
      out_trade_no: string;
      time_expire: string;
    }[];
    const expiry = (no: string) => Date.parse(orders.find((o) => o.out_trade_no === no)!.time_expire);
    expect(expiry('V3_EXPIRE_0001') - START_MS).toBe(7 * 86_400_000);
    expect(expiry('V3_EXPIRE_0002') - START_MS).toBe(90 * 86_400_000);
  });
});
