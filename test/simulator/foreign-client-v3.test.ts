/**
 * A client for API v3 written by someone else, to WeChat's documented protocol, against the
 * simulator. It shares no code with weapp-pay's protocol layer: signing, verifying and
 * decrypting are written here with node:crypto alone, as 《签名生成》, 《签名验证》 and
 * 《证书和回调报文解密》 describe them. Only the TEST-ONLY merchant key comes from the fixtures.
 */
import { createDecipheriv, createSign, createVerify, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_V3_KEY,
  MERCHANT_CERTIFICATE,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_SERIAL,
} from '../fixtures/v3-keys.js';
import { APPID, MCH_ID, MERCHANTS, startSim } from './harness.js';

const nonce = () => randomBytes(16).toString('hex');

function sign(message: string): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(MERCHANT_PRIVATE_KEY, 'base64');
}

function authorization(method: string, path: string, body: string, ts: number): string {
  const n = nonce();
  const signature = sign(`${method}\n${path}\n${ts}\n${n}\n${body}\n`);
  // Pairs in wechatpay-go's order, to show the order does not matter.
  return `WECHATPAY2-SHA256-RSA2048 mchid="${MCH_ID}",nonce_str="${n}",timestamp="${ts}",serial_no="${MERCHANT_SERIAL}",signature="${signature}"`;
}

function verified(headers: Headers | IncomingHttpHeaders, body: string, publicKeyPem: string): boolean {
  const get = (k: string) =>
    headers instanceof Headers ? headers.get(k) : (headers[k] as string | undefined);
  const message = `${get('wechatpay-timestamp')}\n${get('wechatpay-nonce')}\n${body}\n`;
  return createVerify('RSA-SHA256')
    .update(message, 'utf8')
    .verify(publicKeyPem, get('wechatpay-signature') ?? '', 'base64');
}

function decrypt(resource: { ciphertext: string; nonce: string; associated_data: string }): string {
  const data = Buffer.from(resource.ciphertext, 'base64');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    Buffer.from(API_V3_KEY, 'utf8'),
    Buffer.from(resource.nonce, 'utf8'),
  );
  decipher.setAuthTag(data.subarray(data.length - 16));
  decipher.setAAD(Buffer.from(resource.associated_data, 'utf8'));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

describe('a v3 client written by someone else, against the simulator', () => {
  let sim: Awaited<ReturnType<typeof startSim>>;
  let publicKeyPem: string;
  let serial: string;
  const notifications: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      notifications.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  let notifyUrl: string;

  beforeAll(async () => {
    sim = await startSim({
      merchants: [{ ...MERCHANTS[0]!, cert: MERCHANT_CERTIFICATE, apiV3Key: API_V3_KEY }],
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/wxpay/notify`;
    const keys = (await (await fetch(`${sim.url}/sim/v3/keys`)).json()) as {
      publicKeyId: string;
      publicKeyPem: string;
    };
    publicKeyPem = keys.publicKeyPem;
    serial = keys.publicKeyId;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
    await sim?.close();
  });

  async function call(method: 'GET' | 'POST', path: string, payload?: object) {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const ts = Math.floor(sim.clock.now() / 1000);
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: {
        Authorization: authorization(method, path, body, ts),
        Accept: 'application/json',
        'User-Agent': 'foreign-sdk/1.0',
        'Wechatpay-Serial': serial,
        ...(payload ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(payload ? { body } : {}),
    });
    const text = await res.text();
    // Every answer, 204 and errors included, must verify before it is believed.
    expect(verified(res.headers, text, publicKeyPem)).toBe(true);
    expect(res.headers.get('wechatpay-serial')).toBe(serial);
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async function order(outTradeNo: string, openid: string) {
    return call('POST', '/v3/pay/transactions/jsapi', {
      appid: APPID,
      mchid: MCH_ID,
      description: '外部客户端-测试',
      out_trade_no: outTradeNo,
      notify_url: notifyUrl,
      amount: { total: 88, currency: 'CNY' },
      payer: { openid },
    });
  }

  it('orders, pays with an RSA paySign, is notified, queries, refunds and closes another order', async () => {
    const login = (await (
      await fetch(`${sim.url}/sim/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { openid: string };

    const ordered = await order('FOREIGN_V3_0001', login.openid);
    expect(ordered.status).toBe(200);
    const prepayId = ordered.json.prepay_id as string;

    // wx.requestPayment's parameters, as 《小程序调起支付》 says: four lines, signType RSA.
    const timeStamp = String(Math.floor(sim.clock.now() / 1000));
    const nonceStr = nonce();
    const pkg = `prepay_id=${prepayId}`;
    const payment = {
      timeStamp,
      nonceStr,
      package: pkg,
      signType: 'RSA',
      paySign: sign(`${APPID}\n${timeStamp}\n${nonceStr}\n${pkg}\n`),
    };
    const forged = await fetch(`${sim.url}/sim/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        result: 'SUCCESS',
        appId: APPID,
        payment: { ...payment, paySign: sign('something else') },
      }),
    });
    expect(forged.status).toBe(400);
    const pay = await fetch(`${sim.url}/sim/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ result: 'SUCCESS', appId: APPID, payment }),
    });
    expect(((await pay.json()) as { errMsg: string }).errMsg).toBe('requestPayment:ok');
    await sim.clock.settle();

    expect(notifications).toHaveLength(1);
    const n = notifications[0]!;
    expect(verified(n.headers, n.body, publicKeyPem)).toBe(true);
    const envelope = JSON.parse(n.body);
    expect(envelope.event_type).toBe('TRANSACTION.SUCCESS');
    const transaction = JSON.parse(decrypt(envelope.resource));
    expect(transaction).toMatchObject({
      out_trade_no: 'FOREIGN_V3_0001',
      trade_state: 'SUCCESS',
      amount: { total: 88 },
    });

    const queried = await call('GET', `/v3/pay/transactions/out-trade-no/FOREIGN_V3_0001?mchid=${MCH_ID}`);
    expect(queried.json).toMatchObject({
      trade_state: 'SUCCESS',
      transaction_id: transaction.transaction_id,
    });

    const refund = await call('POST', '/v3/refund/domestic/refunds', {
      transaction_id: transaction.transaction_id,
      out_refund_no: 'FOREIGN_V3_R001',
      amount: { refund: 88, total: 88, currency: 'CNY' },
    });
    expect(refund).toMatchObject({ status: 200, json: { status: 'PROCESSING', amount: { refund: 88 } } });
    expect((await call('GET', '/v3/refund/domestic/refunds/FOREIGN_V3_R001')).json.refund_id).toBe(
      refund.json.refund_id,
    );

    expect((await order('FOREIGN_V3_0002', login.openid)).status).toBe(200);
    const closed = await call('POST', '/v3/pay/transactions/out-trade-no/FOREIGN_V3_0002/close', {
      mchid: MCH_ID,
    });
    expect(closed).toEqual({ status: 204, json: undefined });
    const unknown = await call('GET', `/v3/pay/transactions/out-trade-no/FOREIGN_V3_NONE?mchid=${MCH_ID}`);
    expect(unknown.status).toBe(404);
  });

  it('is refused 401 SIGN_ERROR, signed, when it signs other bytes than it sends', async () => {
    const ts = Math.floor(sim.clock.now() / 1000);
    const path = `/v3/pay/transactions/out-trade-no/FOREIGN_V3_0001?mchid=${MCH_ID}`;
    const res = await fetch(`${sim.url}${path}`, {
      headers: { Authorization: authorization('GET', `${path}&x=1`, '', ts), Accept: 'application/json' },
    });
    const text = await res.text();
    expect(res.status).toBe(401);
    expect(JSON.parse(text).code).toBe('SIGN_ERROR');
    expect(verified(res.headers, text, publicKeyPem)).toBe(true);
  });
});
