import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestCertificates } from '../../src/simulator/index.js';
import { WechatRejectedError, WechatRetryableError } from '../../src/wechat/errors.js';
import { createTransport } from '../../src/wechat/transport.js';
import { verifyRefundNotification } from '../../src/wechat/v2/refund-notify.js';
import {
  KEY,
  MCH_ID,
  MERCHANTS,
  OTHER_MCH_ID,
  orderInput,
  postRaw,
  SUCCESS_REPLY,
  signedXml,
  startReceiver,
  startTlsSim,
} from './harness.js';

/** Refunds over mutual TLS, their limits and lifecycle, refundquery and the bill. */

type TlsHarness = Awaited<ReturnType<typeof startTlsSim>>;
let h: TlsHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let openid: string;

beforeAll(async () => {
  h = await startTlsSim({ behaviour: { refundDelaySeconds: 60 } });
  receiver = await startReceiver(() => ({ body: SUCCESS_REPLY }));
  openid = (await h.login()).openid;
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

const rejected = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('call should fail'),
    (e) => e,
  );

async function paid(outTradeNo: string, totalFee = 100) {
  const c = h.tlsClient();
  const { prepayId } = await c.unifiedOrder(orderInput(outTradeNo, openid, receiver.url, totalFee));
  await h.pay(prepayId);
  await h.clock.settle();
  return c;
}

const refund = (outTradeNo: string, outRefundNo: string, refundFee: number, totalFee = 100) => ({
  outTradeNo,
  outRefundNo,
  totalFee,
  refundFee,
  notifyUrl: receiver.url,
});

describe('mutual TLS', () => {
  it('refuses a refund over plain HTTP, and one over HTTPS without a client certificate', async () => {
    await paid('TLS_REFUSE_01');
    const plain = h.client({ clientCert: { cert: h.certs.clientCert, key: h.certs.clientKey } });
    const overHttp = await rejected(plain.refund(refund('TLS_REFUSE_01', 'R_TLS_1', 1)));
    expect(overHttp.failure).toMatchObject({
      layer: 'return',
      message: '证书错误：退款须通过双向TLS携带商户API证书调用',
    });
    const noCert = createTransport({ timeoutMs: 2000, tls: { ca: h.certs.ca } });
    const anonymous = h.client({ baseUrl: h.tlsUrl!, ca: h.certs.ca, secapiTransport: noCert });
    const err = await rejected(anonymous.refund(refund('TLS_REFUSE_01', 'R_TLS_1', 1)));
    expect(err.failure.message).toBe('证书错误：未提供商户API证书');
    await noCert.close();
    expect((await h.json('GET', '/sim/orders?out_trade_no=TLS_REFUSE_01')).body.orders[0].refunds).toEqual(
      [],
    );
  });

  it('refuses a certificate from the same CA issued to another merchant', async () => {
    await paid('TLS_OTHER_001');
    const other = await generateTestCertificates({
      mchId: OTHER_MCH_ID,
      ca: { cert: h.certs.ca, key: h.certs.caKey },
    });
    const c = h.tlsClient({ clientCert: { cert: other.clientCert, key: other.clientKey, ca: h.certs.ca } });
    expect((await rejected(c.refund(refund('TLS_OTHER_001', 'R_TLS_2', 1)))).failure.message).toBe(
      '证书错误：证书与商户号不匹配',
    );
  });

  it('accepts the exact certificate configured for the merchant even from another CA', async () => {
    const foreign = await generateTestCertificates({ mchId: MCH_ID });
    const pinned = await startTlsSim({ merchants: [{ ...MERCHANTS[0]!, cert: foreign.clientCert }] });
    try {
      const o = (await pinned.login()).openid;
      const c = pinned.tlsClient({
        clientCert: { cert: foreign.clientCert, key: foreign.clientKey, ca: pinned.certs.ca },
      });
      const { prepayId } = await c.unifiedOrder(orderInput('TLS_PINNED_01', o, receiver.url));
      await pinned.pay(prepayId);
      expect((await c.refund(refund('TLS_PINNED_01', 'R_PIN_1', 1))).refundFee).toBe(1);
    } finally {
      await pinned.close();
    }
  });
});

describe('refund lifecycle', () => {
  it('accepts as PROCESSING, turns SUCCESS after the delay and notifies with req_info that decrypts', async () => {
    const c = await paid('REFUND_LIFE_1');
    const before = receiver.received.length;
    const r = await c.refund(refund('REFUND_LIFE_1', 'R_LIFE_1', 40));
    expect(r.refundId).toMatch(/^503\d{26}$/);
    expect((await c.orderQuery({ outTradeNo: 'REFUND_LIFE_1' })).tradeState).toBe('REFUND');
    expect((await c.refundQuery({ outRefundNo: 'R_LIFE_1' })).refunds[0]?.status).toBe('PROCESSING');
    await h.clock.advance(60_000);
    const q = await c.refundQuery({ outRefundNo: 'R_LIFE_1' });
    expect(q.refunds[0]).toMatchObject({
      status: 'SUCCESS',
      refundFee: 40,
      successTime: '2024-01-01 12:06:30',
    });
    const body = receiver.received.slice(before).find((b) => b.includes('req_info'))!;
    const n = verifyRefundNotification(body, { key: KEY });
    expect(n).toMatchObject({ outTradeNo: 'REFUND_LIFE_1', outRefundNo: 'R_LIFE_1', refundId: r.refundId });
    expect(n).toMatchObject({
      refundFee: 40,
      totalFee: 100,
      refundStatus: 'SUCCESS',
      successTime: '2024-01-01 12:06:30',
    });
  });

  it('refunds one out_refund_no once: a repeat answers the same refund, a changed amount is refused', async () => {
    const c = await paid('REFUND_ONCE_1');
    const a = await c.refund(refund('REFUND_ONCE_1', 'R_ONCE_1', 30));
    const b = await c.refund(refund('REFUND_ONCE_1', 'R_ONCE_1', 30));
    expect(b.refundId).toBe(a.refundId);
    const err = await rejected(c.refund(refund('REFUND_ONCE_1', 'R_ONCE_1', 31)));
    expect(err.failure).toMatchObject({ errCode: 'INVALID_REQUEST' });
    expect((await c.refundQuery({ outTradeNo: 'REFUND_ONCE_1' })).totalRefundCount).toBe(1);
  });

  it('never refunds more than was paid', async () => {
    const c = await paid('REFUND_SUM_01');
    await c.refund(refund('REFUND_SUM_01', 'R_SUM_1', 60));
    const err = await rejected(c.refund(refund('REFUND_SUM_01', 'R_SUM_2', 41)));
    expect(err.failure).toEqual({
      layer: 'result',
      errCode: 'PARAM_ERROR',
      message: '申请退款金额超过订单可退金额',
    });
    await c.refund(refund('REFUND_SUM_01', 'R_SUM_3', 40));
  });

  it('allows 50 refunds per order and refuses the 51st; refundquery pages 10 at a time', async () => {
    const c = await paid('REFUND_50_001');
    for (let i = 1; i <= 50; i++) await c.refund(refund('REFUND_50_001', `R50_${i}`, 1));
    const err = await rejected(c.refund(refund('REFUND_50_001', 'R50_51', 1)));
    expect(err.failure.errCode).toBe('ERROR');
    const page = await c.refundQuery({ outTradeNo: 'REFUND_50_001' });
    expect([page.totalRefundCount, page.refunds.length, page.refunds[0]?.outRefundNo]).toEqual([
      50,
      10,
      'R50_1',
    ]);
    const last = await c.refundQuery({ outTradeNo: 'REFUND_50_001', offset: 45 });
    expect(last.refunds.map((r) => r.outRefundNo)).toEqual([
      'R50_46',
      'R50_47',
      'R50_48',
      'R50_49',
      'R50_50',
    ]);
  });

  it('refuses refunds of unpaid or unknown orders and a total_fee that is not the order amount', async () => {
    const c = h.tlsClient();
    await c.unifiedOrder(orderInput('REFUND_UNPAID', openid, receiver.url));
    expect((await rejected(c.refund(refund('REFUND_UNPAID', 'R_UNPAID', 1)))).code).toBe('ORDERNOTEXIST');
    expect((await rejected(c.refund(refund('REFUND_NONE_1', 'R_NONE', 1)))).code).toBe('ORDERNOTEXIST');
    await paid('REFUND_TOTAL1');
    expect((await rejected(c.refund(refund('REFUND_TOTAL1', 'R_TOTAL', 1, 99)))).code).toBe('PARAM_ERROR');
    expect((await rejected(c.refundQuery({ outTradeNo: 'REFUND_TOTAL1' }))).code).toBe('REFUNDNOTEXIST');
  });
});

describe('downloadbill', () => {
  it('serves the day’s bill in WeChat’s text format once it is ready', async () => {
    const bill = await startTlsSim({ behaviour: { refundDelaySeconds: 0 } });
    try {
      const o = (await bill.login()).openid;
      const c = bill.tlsClient();
      const { prepayId } = await c.unifiedOrder(orderInput('BILL_ORDER_01', o, receiver.url, 100));
      const unpaid = await c.unifiedOrder(orderInput('BILL_UNPAID_1', o, receiver.url, 7));
      expect(unpaid.prepayId).toBeTruthy();
      await bill.pay(prepayId);
      const tx = (await c.orderQuery({ outTradeNo: 'BILL_ORDER_01' })).transactionId!;
      await bill.clock.advance(60_000);
      const r = await c.refund({
        outTradeNo: 'BILL_ORDER_01',
        outRefundNo: 'R_BILL_1',
        totalFee: 100,
        refundFee: 40,
      });
      await bill.clock.settle();
      const early = await rejected(c.downloadBill({ billDate: '20240101' }));
      expect(early).toBeInstanceOf(WechatRetryableError);
      expect(early.failure.errCode).toBe('BILL_CREATING');
      await bill.clock.advance(22 * 3600_000);
      const text = await c.downloadBill({ billDate: '20240101' });
      const common = `\`wx1234567890abcdef,\`1900000109,\`0,\`,\`${tx},\`BILL_ORDER_01,\`${o},\`JSAPI`;
      expect(text.split('\r\n')).toEqual([
        '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
        `\`2024-01-01 12:05:30,${common},\`SUCCESS,\`OTHERS,\`CNY,\`1.00,\`0.00,\`0,\`0,\`0.00,\`0.00,\`,\`,\`测试商品-咖啡,\`,\`0.01000,\`0.60%,\`1.00,\`0.00,\``,
        `\`2024-01-01 12:06:30,${common},\`REFUND,\`OTHERS,\`CNY,\`0.00,\`0.00,\`${r.refundId},\`R_BILL_1,\`0.40,\`0.00,\`ORIGINAL,\`SUCCESS,\`测试商品-咖啡,\`,\`0.00000,\`0.60%,\`0.00,\`0.40,\``,
        '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
        '`2,`1.00,`0.40,`0.00,`0.01000,`1.00,`0.40',
        '',
      ]);
      const success = await c.downloadBill({ billDate: '20240101', billType: 'SUCCESS' });
      expect(success.split('\r\n')[1]?.split(',')).toHaveLength(20);
      const refunds = await c.downloadBill({ billDate: '20240101', billType: 'REFUND' });
      expect(refunds.split('\r\n')[1]?.split(',')).toHaveLength(29);
      const none = await rejected(c.downloadBill({ billDate: '20231231' }));
      expect(none).toBeInstanceOf(WechatRejectedError);
      expect(none.failure.errCode).toBe('NO_BILL_EXIST');
      const gz = await request(`${bill.url}/pay/downloadbill`, {
        method: 'POST',
        body: signedXml({ bill_date: '20240101', tar_type: 'GZIP' }),
      });
      expect(gz.headers['content-type']).toBe('application/x-gzip');
      expect(gunzipSync(Buffer.from(await gz.body.arrayBuffer())).toString('utf8')).toBe(text);
    } finally {
      await bill.close();
    }
  });

  it('answers downloadbill failures with error_code and no signature', async () => {
    const res = await postRaw(
      `${h.url}/pay/downloadbill`,
      signedXml({ bill_date: '20240101', bill_type: 'BOGUS' }),
    );
    expect(res.fields).toEqual({ return_code: 'FAIL', return_msg: 'invalid bill_type', error_code: '20001' });
    const forged = await postRaw(
      `${h.url}/pay/downloadbill`,
      signedXml({ bill_date: '20240101' }, 'K'.repeat(32)),
    );
    expect(forged.fields).toEqual({ return_code: 'FAIL', return_msg: 'SIGN ERROR', error_code: '20001' });
  });
});
