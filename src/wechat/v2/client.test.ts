import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  isRetryable,
  WechatError,
  WechatRejectedError,
  WechatRetryableError,
  WechatUnknownOutcomeError,
} from '../errors.js';
import { createV2Client, type V2Client } from './client.js';
import { signV2, type V2SignType, verifyV2 } from './sign.js';
import { buildXml, parseXml } from './xml.js';

/**
 * The client against a tiny local WeChat stand-in that answers each test's canned response:
 * signed, unsigned, forged, garbage, slow or reset. (The same client is later run against the
 * simulator by the integration suite.)
 */
const key = 'SimulatorTestKey0123456789abcdef';
const appid = 'wx1234567890abcdef';
const mchId = '1900000109';

type Reply = (req: { path: string; fields: Record<string, string> }, res: ServerResponse) => void;
let reply: Reply;
const requests: Array<{ path: string; fields: Record<string, string>; raw: string; contentType: string }> =
  [];
let server: Server;
let baseUrl = '';
let client: V2Client;

/** A success answer as WeChat signs it: our identity, SUCCESS/SUCCESS, then the call's fields. */
function signed(fields: Record<string, string>, signType: V2SignType = 'MD5', signKey = key): string {
  const base = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid,
    mch_id: mchId,
    nonce_str: 'IITRi8Iabbblz1Jc',
  };
  const all = { ...base, result_code: 'SUCCESS', ...fields };
  // WeChat's responses carry no sign_type: the algorithm is the one the request used.
  return buildXml({ ...all, sign: signV2(all, signKey, signType) });
}
const answer =
  (body: string, status = 200) =>
  (_: unknown, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(body);
  };

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const fields = { ...parseXml(raw) };
      const path = req.url ?? '';
      requests.push({ path, fields, raw, contentType: req.headers['content-type'] ?? '' });
      reply({ path, fields }, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  requests.length = 0;
  await client?.close();
  client = createV2Client({ baseUrl, appid, mchId, key, timeoutMs: 5000, nonce: () => 'Xk3pQ9zT2vLm8RsW' });
});

const order = {
  body: '测试商品-咖啡',
  outTradeNo: 'ORDER_20240101_0001',
  totalFee: 1,
  spbillCreateIp: '127.0.0.1',
  notifyUrl: 'https://example.com/wxpay/notify',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
};
const prepay = { prepay_id: 'wx01120530123456789abcdef0123456700', trade_type: 'JSAPI' };

async function rejection(promise: Promise<unknown>): Promise<WechatError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WechatError);
  return err as WechatError;
}

describe('unifiedOrder', () => {
  it('sends the fixed order with its known MD5 signature and exactly the expected fields', async () => {
    reply = answer(signed(prepay));
    const result = await client.unifiedOrder(order);
    expect(result.prepayId).toBe('wx01120530123456789abcdef0123456700');
    expect(result.tradeType).toBe('JSAPI');
    const [sent] = requests;
    expect(sent?.path).toBe('/pay/unifiedorder');
    expect(sent?.contentType).toMatch(/^text\/xml/);
    expect(sent?.fields.sign).toBe('55759E2E0D09A1A86A2FAD3E5217B23D');
    expect(Object.keys(sent?.fields ?? {}).sort()).toEqual(
      [
        'appid',
        'body',
        'mch_id',
        'nonce_str',
        'notify_url',
        'openid',
        'out_trade_no',
        'sign',
        'spbill_create_ip',
        'total_fee',
        'trade_type',
      ].sort(),
    );
  });

  it('signs with HMAC-SHA256 and verifies the HMAC response', async () => {
    const hmac = createV2Client({
      baseUrl,
      appid,
      mchId,
      key,
      signType: 'HMAC-SHA256',
      nonce: () => 'Xk3pQ9zT2vLm8RsW',
    });
    reply = answer(signed(prepay, 'HMAC-SHA256'));
    expect((await hmac.unifiedOrder(order)).prepayId).toBe(prepay.prepay_id);
    expect(requests[0]?.fields.sign_type).toBe('HMAC-SHA256');
    expect(requests[0]?.fields.sign).toBe('49F57228B80C56A7001AA8B36D171BE5A147766AC1532E2AB9DF04D605CAAC51');
    reply = answer(signed(prepay, 'MD5'));
    expect(((await rejection(hmac.unifiedOrder(order))) as WechatUnknownOutcomeError).reason).toBe(
      'bad_signature',
    );
    await hmac.close();
  });

  it('sends byte-identical requests for the same input, so a retry is the same call', async () => {
    reply = answer(signed(prepay));
    await client.unifiedOrder({ ...order, attach: 'a', timeExpire: '20240101123000' });
    await client.unifiedOrder({ ...order, attach: 'a', timeExpire: '20240101123000' });
    expect(requests[0]?.raw).toBe(requests[1]?.raw);
  });

  it('refuses bad input before sending anything', async () => {
    reply = answer(signed(prepay));
    for (const bad of [
      { ...order, outTradeNo: 'A1@' },
      { ...order, totalFee: 0 },
      { ...order, totalFee: 1.5 },
      { ...order, body: '测'.repeat(43) },
      { ...order, openid: undefined },
      { ...order, notifyUrl: 'https://example.com/notify?x=1' },
      { ...order, timeExpire: '2024-01-01' },
    ]) {
      expect((await rejection(client.unifiedOrder(bad))).code).toBe('INVALID_ARGUMENT');
    }
    expect(requests).toHaveLength(0);
  });

  it('maps return_code FAIL to a rejection of the return layer, without looking for a sign', async () => {
    reply = answer(buildXml({ return_code: 'FAIL', return_msg: '签名错误' }));
    const err = await rejection(client.unifiedOrder(order));
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect((err as WechatRejectedError).failure).toEqual({
      layer: 'return',
      errCode: 'SIGNERROR',
      message: '签名错误',
    });
    expect(isRetryable(err)).toBe(false);
    reply = answer(buildXml({ return_code: 'FAIL', return_msg: 'body参数长度有误' }));
    expect((await rejection(client.unifiedOrder(order))).code).toBe('PARAM_ERROR');
    reply = answer(buildXml({ return_code: 'FAIL', return_msg: '未知的错误' }));
    expect((await rejection(client.unifiedOrder(order))).code).toBe('RETURN_FAIL');
  });

  it('maps SYSTEMERROR to a retryable error and ORDERPAID to a final rejection', async () => {
    reply = answer(signed({ result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统超时' }));
    const retry = await rejection(client.unifiedOrder(order));
    expect(retry).toBeInstanceOf(WechatRetryableError);
    expect((retry as WechatRetryableError).failure).toEqual({
      layer: 'result',
      errCode: 'SYSTEMERROR',
      message: '系统超时',
    });
    expect(isRetryable(retry)).toBe(true);

    reply = answer(signed({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '该订单已支付' }));
    const paid = await rejection(client.unifiedOrder(order));
    expect(paid).toBeInstanceOf(WechatRejectedError);
    expect(paid.code).toBe('ORDERPAID');
    expect(isRetryable(paid)).toBe(false);
  });

  it.each([
    ['signed with another key', () => signed(prepay, 'MD5', 'AnotherKey0123456789abcdef012345')],
    [
      'unsigned',
      () => buildXml({ return_code: 'SUCCESS', appid, mch_id: mchId, result_code: 'SUCCESS', ...prepay }),
    ],
    [
      'tampered after signing',
      () => signed(prepay).replace('wx01120530123456789abcdef0123456700', 'wx_forged_prepay_id'),
    ],
    [
      'signed in lower case',
      () =>
        signed(prepay).replace(
          /<sign>([0-9A-F]+)<\/sign>/,
          (_, s: string) => `<sign>${s.toLowerCase()}</sign>`,
        ),
    ],
  ])('never trusts a response %s', async (_, body) => {
    reply = answer(body());
    const err = await rejection(client.unifiedOrder(order));
    expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
    expect((err as WechatUnknownOutcomeError).reason).toBe('bad_signature');
    expect(isRetryable(err)).toBe(true);
  });

  it('refuses a correctly signed response that names another merchant', async () => {
    reply = answer(signed({ ...prepay, mch_id: '1900000999' }));
    expect(((await rejection(client.unifiedOrder(order))) as WechatUnknownOutcomeError).reason).toBe(
      'malformed',
    );
  });

  it('treats an HTML 502 as an unknown outcome with its status', async () => {
    reply = answer('<html><body>502 Bad Gateway</body></html>', 502);
    const err = (await rejection(client.unifiedOrder(order))) as WechatUnknownOutcomeError;
    expect([err.reason, err.httpStatus]).toEqual(['http_status', 502]);
  });

  it.each([
    ['an HTML page with status 200', '<html><body>OK</body></html>'],
    ['truncated XML', signed(prepay).slice(0, 80)],
    ['an empty body', ''],
    ['XML with a DOCTYPE', `<!DOCTYPE xml [<!ENTITY x "y">]>${signed(prepay)}`],
  ])('treats %s as a malformed unknown outcome', async (_, body) => {
    reply = answer(body);
    expect(((await rejection(client.unifiedOrder(order))) as WechatUnknownOutcomeError).reason).toBe(
      'malformed',
    );
  });

  it('times out on a server that hangs, and reports a reset as a network failure', async () => {
    reply = () => {};
    const impatient = createV2Client({ baseUrl, appid, mchId, key, timeoutMs: 200 });
    expect(((await rejection(impatient.unifiedOrder(order))) as WechatUnknownOutcomeError).reason).toBe(
      'timeout',
    );
    await impatient.close();
    reply = (_, res) => res.socket?.destroy();
    expect(((await rejection(client.unifiedOrder(order))) as WechatUnknownOutcomeError).reason).toBe(
      'network',
    );
  });
});

describe('orderQuery', () => {
  const paid = {
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    out_trade_no: 'ORDER_20240101_0001',
    transaction_id: '4200001234202401011234567890',
    total_fee: '100',
    cash_fee: '90',
    fee_type: 'CNY',
    time_end: '20240101120530',
    openid: order.openid,
    bank_type: 'OTHERS',
  };

  it('types a paid order', async () => {
    reply = answer(signed(paid));
    const result = await client.orderQuery({ outTradeNo: 'ORDER_20240101_0001' });
    expect({ ...result, fields: undefined }).toEqual({
      tradeState: 'SUCCESS',
      tradeStateDesc: '支付成功',
      outTradeNo: 'ORDER_20240101_0001',
      transactionId: '4200001234202401011234567890',
      totalFee: 100,
      cashFee: 90,
      feeType: 'CNY',
      timeEnd: '20240101120530',
      openid: order.openid,
      attach: undefined,
      fields: undefined,
    });
    expect(requests[0]?.fields.out_trade_no).toBe('ORDER_20240101_0001');
  });

  it('queries by transaction_id alone when given one', async () => {
    reply = answer(signed(paid));
    await client.orderQuery({ transactionId: '4200001234202401011234567890' });
    expect(requests[0]?.fields.transaction_id).toBe('4200001234202401011234567890');
    expect(requests[0]?.fields.out_trade_no).toBeUndefined();
    const err = await rejection(client.orderQuery({ transactionId: '4200009999202401019999999999' }));
    expect((err as WechatUnknownOutcomeError).reason).toBe('malformed');
  });

  it('reads an unpaid order without transaction_id', async () => {
    reply = answer(
      signed({ trade_state: 'NOTPAY', trade_state_desc: '订单未支付', out_trade_no: paid.out_trade_no }),
    );
    const result = await client.orderQuery({ outTradeNo: paid.out_trade_no });
    expect([result.tradeState, result.transactionId, result.totalFee]).toEqual([
      'NOTPAY',
      undefined,
      undefined,
    ]);
  });

  it.each([
    ['an unknown trade_state', { ...paid, trade_state: 'PENDING' }],
    ['a paid state without transaction_id', { ...paid, transaction_id: '' }],
    ['an amount that is not fen', { ...paid, total_fee: '1.00' }],
    ['another out_trade_no', { ...paid, out_trade_no: 'ORDER_OTHER_0002' }],
  ])('refuses %s as malformed, never as pending', async (_, fields) => {
    reply = answer(signed(fields));
    const err = await rejection(client.orderQuery({ outTradeNo: paid.out_trade_no }));
    expect((err as WechatUnknownOutcomeError).reason).toBe('malformed');
  });

  it('passes ORDERNOTEXIST on as a rejection', async () => {
    reply = answer(
      signed({ result_code: 'FAIL', err_code: 'ORDERNOTEXIST', err_code_des: '此交易订单号不存在' }),
    );
    expect((await rejection(client.orderQuery({ outTradeNo: paid.out_trade_no }))).code).toBe(
      'ORDERNOTEXIST',
    );
  });
});

describe('closeOrder', () => {
  it('resolves when closed and rejects with ORDERPAID when paid', async () => {
    reply = answer(signed({ result_msg: 'OK' }));
    await expect(client.closeOrder({ outTradeNo: 'ORDER_20240101_0001' })).resolves.toBeUndefined();
    expect(requests[0]?.path).toBe('/pay/closeorder');
    reply = answer(signed({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '订单已支付' }));
    expect((await rejection(client.closeOrder({ outTradeNo: 'ORDER_20240101_0001' }))).code).toBe(
      'ORDERPAID',
    );
  });
});

describe('refundQuery', () => {
  const twoRefunds = {
    out_trade_no: 'ORDER_20240101_0001',
    transaction_id: '4200001234202401011234567890',
    total_fee: '100',
    cash_fee: '100',
    refund_count: '2',
    total_refund_count: '2',
    out_refund_no_0: 'R1',
    refund_id_0: '50300000002024010112345678901',
    refund_fee_0: '30',
    refund_status_0: 'SUCCESS',
    refund_success_time_0: '2024-01-01 12:10:00',
    out_refund_no_1: 'R2',
    refund_id_1: '50300000002024010112345678902',
    refund_fee_1: '20',
    refund_status_1: 'PROCESSING',
  };

  it('reads every refund record', async () => {
    reply = answer(signed(twoRefunds));
    const result = await client.refundQuery({ outTradeNo: 'ORDER_20240101_0001' });
    expect(result.totalRefundCount).toBe(2);
    expect(result.refunds).toEqual([
      {
        outRefundNo: 'R1',
        refundId: '50300000002024010112345678901',
        refundFee: 30,
        status: 'SUCCESS',
        successTime: '2024-01-01 12:10:00',
      },
      {
        outRefundNo: 'R2',
        refundId: '50300000002024010112345678902',
        refundFee: 20,
        status: 'PROCESSING',
        successTime: undefined,
      },
    ]);
    expect(requests[0]?.path).toBe('/pay/refundquery');
  });

  it('sends offset and the one identifier asked for', async () => {
    reply = answer(signed(twoRefunds));
    await client.refundQuery({ outRefundNo: 'R1', offset: 10 });
    expect([
      requests[0]?.fields.out_refund_no,
      requests[0]?.fields.offset,
      requests[0]?.fields.out_trade_no,
    ]).toEqual(['R1', '10', undefined]);
  });

  it.each([
    ['an unknown refund status', { ...twoRefunds, refund_status_1: 'DONE' }],
    ['a missing record', { ...twoRefunds, refund_count: '3' }],
  ])('refuses %s as malformed', async (_, fields) => {
    reply = answer(signed(fields));
    expect(
      ((await rejection(client.refundQuery({ outRefundNo: 'R1' }))) as WechatUnknownOutcomeError).reason,
    ).toBe('malformed');
  });
});

describe('downloadBill', () => {
  const bill = '交易时间,公众账号ID\r\n`2024-01-01 12:05:30,`wx1234567890abcdef\r\n总交易单数\r\n`1\r\n';

  it('returns the plain-text bill without its BOM, and signs the request', async () => {
    reply = (_, res) => res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bill)]));
    expect(await client.downloadBill({ billDate: '20240101' })).toBe(bill);
    expect(requests[0]?.fields).toMatchObject({ bill_date: '20240101', bill_type: 'ALL' });
    expect(verifyV2(requests[0]?.fields ?? {}, key, 'MD5')).toBe(true);
  });

  it('asks for tar_type=GZIP and unpacks the compressed bill', async () => {
    reply = (_, res) => res.end(gzipSync(Buffer.from(`\ufeff${bill}`)));
    expect(await client.downloadBill({ billDate: '20240101', tarType: 'GZIP' })).toBe(bill);
    expect(requests[0]?.fields).toMatchObject({ bill_date: '20240101', tar_type: 'GZIP' });
  });

  it('refuses a GZIP bill that does not unpack, as malformed', async () => {
    reply = (_, res) => res.end(gzipSync(Buffer.from(bill)).subarray(0, 20));
    const err = await rejection(client.downloadBill({ billDate: '20240101', tarType: 'GZIP' }));
    expect((err as WechatUnknownOutcomeError).reason).toBe('malformed');
  });

  it('maps an XML failure with error_code', async () => {
    reply = answer(buildXml({ return_code: 'FAIL', return_msg: 'No Bill Exist', error_code: '20002' }));
    const err = await rejection(client.downloadBill({ billDate: '20240101' }));
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect((err as WechatRejectedError).failure).toEqual({
      layer: 'return',
      errCode: 'NO_BILL_EXIST',
      message: 'No Bill Exist (error_code 20002)',
    });
    reply = answer(buildXml({ return_code: 'FAIL', return_msg: 'Bill Creating', error_code: '20001' }));
    expect(await rejection(client.downloadBill({ billDate: '20240101' }))).toBeInstanceOf(
      WechatRetryableError,
    );
  });

  it('refuses a date that is not yyyyMMdd', async () => {
    expect((await rejection(client.downloadBill({ billDate: '2024-01-01' }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.downloadBill({ billDate: '20240230' }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('refund without a certificate', () => {
  it('fails before sending anything', async () => {
    const err = await rejection(
      client.refund({ outTradeNo: 'ORDER_20240101_0001', outRefundNo: 'R1', totalFee: 100, refundFee: 30 }),
    );
    expect(err.code).toBe('CLIENT_CERT_REQUIRED');
    expect(requests).toHaveLength(0);
  });
});
