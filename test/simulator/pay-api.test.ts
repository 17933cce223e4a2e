import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WechatRejectedError } from '../../src/wechat/errors.js';
import { signV2, verifyV2 } from '../../src/wechat/v2/sign.js';
import {
  APPID,
  KEY,
  MCH_ID,
  OTHER_APPID,
  OTHER_KEY,
  orderInput,
  postRaw,
  type SimHarness,
  signedXml,
  startSim,
} from './harness.js';

/** Signatures both ways, WeChat's protocol errors and every field check of unifiedorder. */

let h: SimHarness;
let openid: string;
const NOTIFY = 'http://127.0.0.1:9/payment/notify/v2';

const validOrder = (o: Record<string, string> = {}) => ({
  body: '测试商品-咖啡',
  out_trade_no: 'ORDER_RAW_0001',
  total_fee: '1',
  spbill_create_ip: '127.0.0.1',
  notify_url: NOTIFY,
  trade_type: 'JSAPI',
  openid,
  ...o,
});

beforeAll(async () => {
  h = await startSim();
  openid = (await h.login()).openid;
});
afterAll(() => h.close());

const unified = (xml: string | Buffer | undefined, method: 'POST' | 'GET' = 'POST') =>
  postRaw(`${h.url}/pay/unifiedorder`, xml, method);

describe('signatures', () => {
  it('accepts a request signed with the merchant key and answers with a signature the client verifies', async () => {
    const res = await unified(signedXml(validOrder({ out_trade_no: 'SIGN_OK_0001' })));
    expect(res.fields.return_code).toBe('SUCCESS');
    expect(res.fields.result_code).toBe('SUCCESS');
    expect(res.fields.sign).toMatch(/^[0-9A-F]{32}$/);
    expect(verifyV2(res.fields, KEY, 'MD5')).toBe(true);
  });

  it('answers an HMAC-SHA256 request with a 64-character HMAC signature', async () => {
    const res = await unified(signedXml(validOrder({ out_trade_no: 'SIGN_HMAC_01' }), KEY, 'HMAC-SHA256'));
    expect(res.fields.sign).toMatch(/^[0-9A-F]{64}$/);
    expect(verifyV2(res.fields, KEY, 'HMAC-SHA256')).toBe(true);
  });

  it.each([
    ['the wrong key', (x: Record<string, string>) => ({ ...x, sign: signV2(x, OTHER_KEY) })],
    ['lower-case hex', (x: Record<string, string>) => ({ ...x, sign: signV2(x, KEY).toLowerCase() })],
    ['31 characters', (x: Record<string, string>) => ({ ...x, sign: signV2(x, KEY).slice(1) })],
    [
      'an unknown sign_type',
      (x: Record<string, string>) => ({ ...x, sign_type: 'SHA1', sign: signV2(x, KEY) }),
    ],
  ])(
    'refuses a signature made with %s: return_code FAIL 签名错误, unsigned, no order',
    async (_name, forge) => {
      const fields = {
        appid: APPID,
        mch_id: MCH_ID,
        nonce_str: 'n1',
        ...validOrder({ out_trade_no: 'FORGED_0001' }),
      };
      const { buildXml } = await import('../../src/wechat/v2/xml.js');
      const res = await unified(buildXml(forge(fields)));
      expect(res.fields).toEqual({ return_code: 'FAIL', return_msg: '签名错误' });
      expect((await h.json('GET', '/sim/orders?out_trade_no=FORGED_0001')).body.orders).toEqual([]);
    },
  );

  it('makes the typed client report SIGNERROR when it signs with the wrong key', async () => {
    const err = await h
      .client({ key: OTHER_KEY })
      .orderQuery({ outTradeNo: 'ORDER_RAW_0001' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect(err.failure).toEqual({ layer: 'return', errCode: 'SIGNERROR', message: '签名错误' });
  });
});

describe('protocol errors', () => {
  it.each([
    ['a GET', undefined, 'GET', '请使用post方法'],
    ['an empty body', '', 'POST', 'post数据为空'],
    [
      'bytes that are not UTF-8',
      Buffer.from([0x3c, 0x78, 0xff, 0xfe]),
      'POST',
      '编码格式错误，请使用UTF-8编码',
    ],
    ['malformed XML', '<xml><appid>wx</xml>', 'POST', 'XML格式错误'],
    [
      'a DOCTYPE',
      '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>',
      'POST',
      'XML格式错误',
    ],
    [
      'a repeated field',
      '<xml><total_fee>1</total_fee><total_fee>2</total_fee></xml>',
      'POST',
      'XML格式错误',
    ],
  ] as const)('answers %s with return_code FAIL and no signature', async (_name, body, method, message) => {
    const res = await unified(body, method);
    expect(res.status).toBe(200);
    expect(res.fields).toEqual({ return_code: 'FAIL', return_msg: message });
  });

  it('refuses an unknown mch_id without signing', async () => {
    const res = await unified(signedXml({ ...validOrder(), mch_id: '1234567890' }));
    expect(res.fields).toEqual({ return_code: 'FAIL', return_msg: '商户号mch_id不存在' });
  });

  it('answers APPID_NOT_EXIST for an appid no merchant has', async () => {
    const res = await unified(signedXml({ ...validOrder(), appid: 'wx9999999999999999' }));
    expect(res.fields.err_code).toBe('APPID_NOT_EXIST');
  });
});

describe('unifiedorder field checks', () => {
  it.each([
    ['body', { body: undefined }],
    ['out_trade_no', { out_trade_no: undefined }],
    ['total_fee', { total_fee: undefined }],
    ['spbill_create_ip', { spbill_create_ip: undefined }],
    ['notify_url', { notify_url: undefined }],
    ['trade_type', { trade_type: undefined }],
    ['openid', { openid: undefined }],
  ])('answers LACK_PARAMS when %s is missing', async (field, change) => {
    const fields = Object.fromEntries(
      Object.entries({ ...validOrder(), ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const res = await unified(signedXml(fields));
    expect(res.fields).toMatchObject({ result_code: 'FAIL', err_code: 'LACK_PARAMS' });
    expect(res.fields.err_code_des).toContain(field);
  });

  it.each([
    ['body of 128 UTF-8 bytes', { body: `${'测'.repeat(42)}ab` }, 'body参数长度有误'],
    ['out_trade_no of 5 characters', { out_trade_no: 'AB123' }, 'out_trade_no参数格式错误'],
    ['out_trade_no of 33 characters', { out_trade_no: 'A'.repeat(33) }, 'out_trade_no参数格式错误'],
    ['out_trade_no with @', { out_trade_no: 'ORDER@0001' }, 'out_trade_no参数格式错误'],
    [
      'notify_url with a query string',
      { notify_url: `${NOTIFY}?order=1` },
      'notify_url参数格式错误，不能携带参数',
    ],
    ['notify_url that is not a URL', { notify_url: 'notify' }, 'notify_url参数格式错误'],
    ['time_expire with seconds missing', { time_expire: '202401011305' }, 'time_expire参数格式错误'],
    ['time_expire on 30 February', { time_expire: '20240230120000' }, 'time_expire参数格式错误'],
    ['total_fee of 100.0', { total_fee: '100.0' }, 'total_fee参数格式错误'],
    ['total_fee of 0', { total_fee: '0' }, 'total_fee参数格式错误'],
    ['total_fee above 2^31-1', { total_fee: '2147483648' }, 'total_fee参数格式错误'],
    [
      'a spbill_create_ip that is not an IP',
      { spbill_create_ip: 'localhost' },
      'spbill_create_ip参数格式错误',
    ],
    ['fee_type USD', { fee_type: 'USD' }, 'fee_type参数格式错误'],
    ['trade_type MICROPAY', { trade_type: 'MICROPAY' }, 'trade_type参数格式错误'],
  ])('refuses %s with return_code FAIL naming the field', async (_name, change, message) => {
    const res = await unified(signedXml(validOrder(change)));
    expect(res.fields.return_code).toBe('FAIL');
    expect(res.fields.return_msg).toContain(message);
  });

  it('accepts a body of exactly 127 UTF-8 bytes', async () => {
    const res = await unified(
      signedXml(validOrder({ body: `${'测'.repeat(42)}a`, out_trade_no: 'BODY_127_01' })),
    );
    expect(res.fields.result_code).toBe('SUCCESS');
  });

  it('refuses an openid that /sim/login did not issue for this appid', async () => {
    const foreign = (await h.login(OTHER_APPID)).openid;
    for (const o of [foreign, 'oUnknownOpenid000000000000000']) {
      const res = await unified(signedXml(validOrder({ openid: o, out_trade_no: 'OPENID_0001' })));
      expect(res.fields).toMatchObject({ err_code: 'PARAM_ERROR', err_code_des: 'appid和openid不匹配' });
    }
  });

  it('refuses an http notify_url when https is required', async () => {
    const strict = await startSim({ behaviour: { requireHttpsNotifyUrl: true } });
    try {
      const o = (await strict.login()).openid;
      const err = await strict
        .client()
        .unifiedOrder(orderInput('HTTPS_ONLY_01', o, NOTIFY))
        .catch((e) => e);
      expect(err.failure).toMatchObject({ layer: 'return', errCode: 'PARAM_ERROR' });
    } finally {
      await strict.close();
    }
  });
});
