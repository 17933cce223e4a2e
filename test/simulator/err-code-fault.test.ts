import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTED_ERR_CODES } from '../../src/simulator/err-codes.js';
import { type WechatError, WechatRejectedError, WechatRetryableError } from '../../src/wechat/errors.js';
import { verifyV2 } from '../../src/wechat/v2/sign.js';
import { parseXml } from '../../src/wechat/v2/xml.js';
import { KEY, orderInput, signedXml, startTlsSim } from './harness.js';
import { startV3Sim, type V3Harness } from './v3-harness.js';

/**
 * The ERR_CODE fault: any Pay API answers any err_code its documentation lists, signed, with
 * nothing applied; on API v3 the same code as its HTTP status and JSON code. Set for one call
 * with the X-Sim-Fault header, or as a rule with POST /sim/faults.
 */

const NOTIFY = 'http://127.0.0.1:9/payment/notify';

/** A signed v2 request with a fault header; the answer's fields and whether its signature holds. */
async function postWithFault(url: string, fields: Record<string, string>, errCode: string) {
  const res = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml',
      'x-sim-fault': 'ERR_CODE',
      'x-sim-fault-params': JSON.stringify({ err_code: errCode }),
    },
    body: signedXml(fields),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) return { status: res.statusCode, text, fields: {}, signatureOk: false };
  const answer = { ...parseXml(text) };
  return { status: res.statusCode, text, fields: answer, signatureOk: verifyV2(answer, KEY) };
}
const rejected = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('call should fail'),
    (e: unknown) => e,
  );

/** unifiedorder's fields as WeChat names them. */
const orderFields = (outTradeNo: string) => ({
  body: '咖啡',
  out_trade_no: outTradeNo,
  total_fee: '1',
  spbill_create_ip: '127.0.0.1',
  notify_url: NOTIFY,
  trade_type: 'JSAPI',
});

describe('ERR_CODE on API v2', () => {
  let h: Awaited<ReturnType<typeof startTlsSim>>;
  let openid: string;
  beforeAll(async () => {
    h = await startTlsSim();
    openid = (await h.login()).openid;
  });
  afterAll(async () => {
    await h.close();
  });

  it.each(Object.keys(DOCUMENTED_ERR_CODES.unifiedorder))(
    'unifiedorder answers %s, signed, and creates nothing (header form)',
    async (errCode) => {
      const outTradeNo = `ERRCODE_${errCode}`.slice(0, 32);
      const fields = { ...orderFields(outTradeNo), openid };
      const res = await postWithFault(`${h.url}/pay/unifiedorder`, fields, errCode);
      expect(res.status).toBe(200);
      expect(res.fields).toMatchObject({
        return_code: 'SUCCESS',
        result_code: 'FAIL',
        err_code: errCode,
        err_code_des:
          DOCUMENTED_ERR_CODES.unifiedorder[errCode as keyof typeof DOCUMENTED_ERR_CODES.unifiedorder],
      });
      expect(res.signatureOk).toBe(true);
      expect((await h.json('GET', `/sim/orders?out_trade_no=${outTradeNo}`)).body.orders).toEqual([]);
    },
  );

  it('a rule makes the next refund answer NOTENOUGH through our client; nothing is refunded, then the retry works', async () => {
    const c = h.tlsClient();
    const { prepayId } = await c.unifiedOrder(orderInput('ERRCODE_REFUND_01', openid, NOTIFY));
    await h.pay(prepayId);
    const set = await h.json('POST', '/sim/faults', {
      fault: 'ERR_CODE',
      api: 'refund',
      err_code: 'NOTENOUGH',
    });
    expect(set.status).toBe(201);
    expect(set.body).toMatchObject({
      fault: 'ERR_CODE',
      api: 'refund',
      times: 1,
      params: { err_code: 'NOTENOUGH' },
    });

    const input = {
      outTradeNo: 'ERRCODE_REFUND_01',
      outRefundNo: 'R_ERRCODE_1',
      totalFee: 100,
      refundFee: 30,
    };
    const err = await rejected(c.refund(input));
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect((err as WechatRejectedError).failure).toMatchObject({
      errCode: 'NOTENOUGH',
      message: '基本账户余额不足，请充值后重新发起',
    });
    const order = (await h.json('GET', '/sim/orders?out_trade_no=ERRCODE_REFUND_01')).body.orders[0];
    expect(order.refunds).toEqual([]);
    expect((await c.refund(input)).refundFee).toBe(30);
  });

  it('BIZERR_NEED_RETRY and FREQUENCY_LIMITED reach our client as retryable, SYSTEMERROR too', async () => {
    const c = h.tlsClient();
    for (const errCode of ['BIZERR_NEED_RETRY', 'FREQUENCY_LIMITED', 'SYSTEMERROR']) {
      await h.json('POST', '/sim/faults', {
        fault: 'ERR_CODE',
        api: 'refund',
        params: { err_code: errCode },
      });
      const err = await rejected(
        c.refund({
          outTradeNo: 'ERRCODE_REFUND_01',
          outRefundNo: 'R_ERRCODE_2',
          totalFee: 100,
          refundFee: 1,
        }),
      );
      expect([err instanceof WechatRetryableError, (err as WechatError).code]).toEqual([true, errCode]);
    }
  });

  it('refuses a rule or a header it cannot play, saying what the API documents', async () => {
    const cases: [object, RegExp][] = [
      [{ fault: 'ERR_CODE', err_code: 'NOTENOUGH' }, /needs api/],
      [{ fault: 'ERR_CODE', api: 'refund' }, /needs params\.err_code/],
      [
        { fault: 'ERR_CODE', api: 'orderquery', err_code: 'NOTENOUGH' },
        /orderquery documents no err_code NOTENOUGH; it documents SYSTEMERROR, ORDERNOTEXIST/,
      ],
      [
        { fault: 'ERR_CODE', api: 'downloadbill', err_code: 'SYSTEMERROR' },
        /applies to unifiedorder, orderquery, closeorder, refund, refundquery/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await h.json('POST', '/sim/faults', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    expect((await h.json('GET', '/sim/faults')).body.faults).toEqual([]);
    const header = await postWithFault(
      `${h.url}/pay/closeorder`,
      { out_trade_no: 'ERRCODE_CLOSE_1' },
      'NOTENOUGH',
    );
    expect(header.status).toBe(400);
    expect(header.text).toContain('closeorder documents no err_code NOTENOUGH');
  });

  it('takes the v3 spelling of a code and stores the v2 one', async () => {
    const set = await h.json('POST', '/sim/faults', {
      fault: 'ERR_CODE',
      api: 'refund',
      err_code: 'NOT_ENOUGH',
    });
    expect(set.body.params).toEqual({ err_code: 'NOTENOUGH' });
    await h.json('DELETE', '/sim/faults');
  });
});

describe('ERR_CODE on API v3', () => {
  let h: V3Harness;
  beforeAll(async () => {
    h = await startV3Sim();
  });
  afterAll(async () => {
    await h.close();
  });

  const refundBody = (no: string) => ({
    out_trade_no: 'V3_ERRCODE_001',
    out_refund_no: no,
    amount: { refund: 10, total: 100, currency: 'CNY' },
  });

  it.each([
    ['NOTENOUGH', 403, 'NOT_ENOUGH'],
    ['FREQUENCY_LIMITED', 429, 'FREQUENCY_LIMITED'],
    ['BIZERR_NEED_RETRY', 500, 'BIZ_ERR_NEED_RETRY'],
    ['USER_ACCOUNT_ABNORMAL', 403, 'USER_ACCOUNT_ABNORMAL'],
    ['SYSTEMERROR', 500, 'SYSTEM_ERROR'],
  ])('a refund answers %s as HTTP %i %s, signed, and refunds nothing', async (errCode, status, code) => {
    if (!(await h.json('GET', '/sim/orders?out_trade_no=V3_ERRCODE_001')).body.orders.length) {
      const { prepayId } = await h.order('V3_ERRCODE_001');
      await h.pay(prepayId);
    }
    await h.json('POST', '/sim/faults', { fault: 'ERR_CODE', api: 'refund', err_code: errCode });
    const res = await h.call('POST', '/v3/refund/domestic/refunds', refundBody(`R_V3_${errCode}`));
    expect([res.status, res.body]).toEqual([
      status,
      { code, message: DOCUMENTED_ERR_CODES.refund[errCode as keyof typeof DOCUMENTED_ERR_CODES.refund] },
    ]);
    expect(await h.verify(res)).toMatchObject({ ok: true });
    const order = (await h.json('GET', '/sim/orders?out_trade_no=V3_ERRCODE_001')).body.orders[0];
    expect(order.refunds).toEqual([]);
  });

  it('jsapi answers ORDERPAID with the knob-chosen status and a given err_code_des, for one call in the header form', async () => {
    const { openid } = await h.login();
    const res = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      {
        appid: 'wx1234567890abcdef',
        mchid: '1900000109',
        description: '咖啡',
        out_trade_no: 'V3_ERRCODE_PAID',
        notify_url: 'https://m.example/notify',
        amount: { total: 1, currency: 'CNY' },
        payer: { openid },
      },
      {
        headers: {
          'x-sim-fault': 'ERR_CODE',
          'x-sim-fault-params': '{"err_code":"ORDERPAID","err_code_des":"order already paid"}',
        },
      },
    );
    expect([res.status, res.body]).toEqual([400, { code: 'ORDERPAID', message: 'order already paid' }]);
  });
});
