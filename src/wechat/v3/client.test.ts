import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  API_V3_KEY,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_PUBLIC_KEY,
  MERCHANT_SERIAL,
  PLATFORM_CERTIFICATE_A,
  PLATFORM_CERTIFICATE_A_SERIAL,
  PLATFORM_CERTIFICATE_B,
  PLATFORM_CERTIFICATE_B_SERIAL,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
} from '../../../test/fixtures/v3-keys.js';
import { WechatRejectedError, WechatRetryableError, WechatUnknownOutcomeError } from '../errors.js';
import { encryptAeadAes256Gcm } from './aead.js';
import { createV3Client, type V3ClientOptions } from './client.js';
import { createV3KeyStore, type V3KeyStore } from './keys.js';
import { parseAuthorization, signResponseV3, v3RequestMessage, verifyV3 } from './sign.js';

/**
 * The client against a tiny local WeChat stand-in that signs its answers with the platform key
 * (public key id, or certificate A or B) and checks our request signatures. Time is a variable.
 */
const mchid = '1900000109';
const appid = 'wx1234567890abcdef';
const notifyUrl = 'https://example.com/wxpay/v3/notify';

interface Reply {
  status?: number;
  body?: string;
  /** Bytes sent instead of `body` (a GZIP bill file), unsigned. */
  raw?: Buffer;
  /** Which key id to put in Wechatpay-Serial; undefined sends no signature headers at all. */
  serial?: string | undefined;
  timestamp?: number;
  tamper?: boolean;
  hang?: boolean;
}
interface Seen {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  signatureOk: boolean;
}

let now = 1_704_081_930;
let certificateExpiry = '2029-01-01T00:00:00+08:00';
let reply: (req: Seen) => Reply;
const seen: Seen[] = [];
let server: Server;
let baseUrl = '';

function certificatesBody(): string {
  const entry = (serial: string, pem: string) => ({
    serial_no: serial,
    effective_time: '2024-01-01T00:00:00+08:00',
    expire_time: certificateExpiry,
    encrypt_certificate: {
      algorithm: 'AEAD_AES_256_GCM',
      nonce: 'a1b2c3d4e5f6',
      associated_data: 'certificate',
      ciphertext: encryptAeadAes256Gcm({
        key: API_V3_KEY,
        nonce: 'a1b2c3d4e5f6',
        associatedData: 'certificate',
        plaintext: pem,
      }),
    },
  });
  return JSON.stringify({
    data: [
      entry(PLATFORM_CERTIFICATE_A_SERIAL, PLATFORM_CERTIFICATE_A),
      entry(PLATFORM_CERTIFICATE_B_SERIAL, PLATFORM_CERTIFICATE_B),
    ],
  });
}

function send(res: ServerResponse, r: Reply): void {
  if (r.hang) return;
  const status = r.status ?? 200;
  const body = r.body ?? '';
  const headers: Record<string, string> = status === 204 ? {} : { 'content-type': 'application/json' };
  if (r.serial !== undefined) {
    const signed = signResponseV3({
      body,
      privateKey: PLATFORM_PRIVATE_KEY,
      serial: r.serial,
      timestamp: r.timestamp ?? now,
      nonce: 'srvnonce',
    });
    if (r.tamper) signed['Wechatpay-Signature'] = `A${signed['Wechatpay-Signature']!.slice(1)}`;
    Object.assign(headers, signed);
  }
  res.writeHead(status, headers);
  res.end(r.raw ?? body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const auth = parseAuthorization(req.headers.authorization);
      const message = v3RequestMessage(
        req.method ?? '',
        req.url ?? '',
        auth?.timestamp ?? '',
        auth?.nonceStr ?? '',
        body,
      );
      const signatureOk =
        !!auth &&
        auth.mchid === mchid &&
        auth.serialNo === MERCHANT_SERIAL &&
        verifyV3(message, auth.signature, MERCHANT_PUBLIC_KEY);
      const entry = {
        method: req.method ?? '',
        path: req.url ?? '',
        body,
        headers: req.headers,
        signatureOk,
      };
      seen.push(entry);
      if (entry.path === '/v3/certificates')
        send(res, { body: certificatesBody(), serial: PLATFORM_CERTIFICATE_A_SERIAL });
      else send(res, reply(entry));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  now = 1_704_081_930;
  certificateExpiry = '2029-01-01T00:00:00+08:00';
});

const publicKeyStore = () =>
  createV3KeyStore({ publicKey: { id: PLATFORM_PUBLIC_KEY_ID, pem: PLATFORM_PUBLIC_KEY } });

function client(keys: V3KeyStore = publicKeyStore(), extra: Partial<V3ClientOptions> = {}) {
  return createV3Client({
    baseUrl,
    mchid,
    appid,
    serialNo: MERCHANT_SERIAL,
    privateKey: MERCHANT_PRIVATE_KEY,
    apiV3Key: API_V3_KEY,
    keys,
    nowSeconds: () => now,
    ...extra,
  });
}

const ok = (body: unknown, status = 200): Reply => ({
  status,
  body: JSON.stringify(body),
  serial: PLATFORM_PUBLIC_KEY_ID,
});
const jsapiInput = {
  description: 'Test-Coffee',
  outTradeNo: 'ORDER_20240101_0001',
  total: 1,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  notifyUrl,
};
const transaction = {
  appid,
  mchid,
  out_trade_no: 'ORDER_20240101_0001',
  transaction_id: '4200001234202401011234567890',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
};

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a failure'),
    (err: unknown) => err,
  );
}

describe('v3 client', () => {
  it('places a JSAPI order with a signed request and returns the prepay_id', async () => {
    reply = () => ok({ prepay_id: 'wx26112221580621e9b071c00d9e093b0000' });
    const wechat = client();
    await expect(wechat.jsapi(jsapiInput)).resolves.toEqual({
      prepayId: 'wx26112221580621e9b071c00d9e093b0000',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.signatureOk).toBe(true);
    expect(seen[0]!.path).toBe('/v3/pay/transactions/jsapi');
    expect(seen[0]!.headers['wechatpay-serial']).toBe(PLATFORM_PUBLIC_KEY_ID);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]!.body)).toEqual({
      appid,
      mchid,
      description: 'Test-Coffee',
      out_trade_no: 'ORDER_20240101_0001',
      notify_url: notifyUrl,
      amount: { total: 1, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    });
    await wechat.close();
  });

  it.each([
    ['a description over 127 bytes', { description: '咖'.repeat(43) }],
    ['an out_trade_no with a pipe', { outTradeNo: 'ORDER|0001' }],
    ['an out_trade_no of 5 characters', { outTradeNo: 'ORD01' }],
    ['a notify_url with a query', { notifyUrl: `${notifyUrl}?a=1` }],
    ['an http notify_url', { notifyUrl: 'http://example.com/notify' }],
    ['an http notify_url on a public address', { notifyUrl: 'http://127.0.0.2.nip.io/notify' }],
    ['an amount of 0 fen', { total: 0 }],
    ['an amount in yuan', { total: 0.01 }],
    ['a time_expire without offset', { timeExpire: '2024-01-01T12:30:00' }],
  ])('refuses %s before sending anything', async (_name, change) => {
    await expect(client().jsapi({ ...jsapiInput, ...change })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(seen).toHaveLength(0);
  });

  it('closes an order on a signed 204 and refuses an unsigned 204', async () => {
    reply = () => ({ status: 204, serial: PLATFORM_PUBLIC_KEY_ID });
    await expect(client().closeOrder('ORDER_20240101_0001')).resolves.toBeUndefined();
    expect(seen[0]).toMatchObject({
      method: 'POST',
      path: '/v3/pay/transactions/out-trade-no/ORDER_20240101_0001/close',
      body: `{"mchid":"${mchid}"}`,
    });
    reply = () => ({ status: 204, serial: undefined });
    const err = await failure(client().closeOrder('ORDER_20240101_0001'));
    expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
    expect(err).toMatchObject({ reason: 'bad_signature' });
  });

  it.each([
    [500, { code: 'SYSTEMERROR', message: '系统繁忙' }, WechatRetryableError, 'SYSTEM_ERROR'],
    [500, { code: 'SYSTEM_ERROR', message: '系统繁忙' }, WechatRetryableError, 'SYSTEM_ERROR'],
    [429, { code: 'FREQUENCY_LIMITED', message: '频率超限' }, WechatRetryableError, 'FREQUENCY_LIMITED'],
    [503, { code: 'SOMETHING_NEW', message: '' }, WechatRetryableError, 'SOMETHING_NEW'],
    [404, { code: 'ORDERNOTEXIST', message: '订单不存在' }, WechatRejectedError, 'ORDER_NOT_EXIST'],
    [404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' }, WechatRejectedError, 'ORDER_NOT_EXIST'],
    [400, { code: 'ORDER_CLOSED', message: '订单已关闭' }, WechatRejectedError, 'ORDER_CLOSED'],
    [401, { code: 'SIGN_ERROR', message: '签名错误' }, WechatRejectedError, 'SIGN_ERROR'],
    [500, { code: 'OPENID_MISMATCH', message: '' }, WechatRejectedError, 'OPENID_MISMATCH'],
  ] as const)('maps a signed HTTP %i %j to its class and code', async (status, body, type, code) => {
    reply = () => ok(body, status);
    const err = await failure(client().queryByOutTradeNo('ORDER_20240101_0001'));
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({
      code,
      failure: { errCode: code, message: body.message, httpStatus: status },
    });
  });

  it('keeps the detail of a PARAM_ERROR', async () => {
    const detail = { field: '#/properties/payer', value: '1', issue: '与ALLOF schema不符', location: 'body' };
    reply = () => ok({ code: 'PARAM_ERROR', message: '参数错误', detail }, 400);
    const err = await failure(client().jsapi(jsapiInput));
    expect(err).toBeInstanceOf(WechatRejectedError);
    expect((err as WechatRejectedError).failure.detail).toEqual(detail);
  });

  it.each([
    ['a bad signature on a 200', { ...ok(transaction), tamper: true }, 'bad_signature'],
    [
      'a bad signature on an error',
      { ...ok({ code: 'ORDER_NOT_EXIST', message: '' }, 404), tamper: true },
      'bad_signature',
    ],
    ['a signature 301 s old', { ...ok(transaction), timestamp: 1_704_081_930 - 301 }, 'bad_signature'],
    ['a signature 301 s ahead', { ...ok(transaction), timestamp: 1_704_081_930 + 301 }, 'bad_signature'],
    ['an unsigned gateway page', { status: 502, body: '<html>Bad Gateway</html>' }, 'http_status'],
    ['an unsigned 200', { status: 200, body: JSON.stringify(transaction) }, 'bad_signature'],
    [
      'a signed body that is not JSON',
      { status: 200, body: 'nope', serial: PLATFORM_PUBLIC_KEY_ID },
      'malformed',
    ],
    ['a transaction of another order', ok({ ...transaction, out_trade_no: 'ORDER_OTHER' }), 'malformed'],
    ['a transaction of another merchant', ok({ ...transaction, mchid: '1900000110' }), 'malformed'],
    ['a paid transaction without its amount', ok({ ...transaction, amount: undefined }), 'malformed'],
  ] as const)('treats %s as an unknown outcome', async (_name, r, reason) => {
    reply = () => r as Reply;
    const err = await failure(client().queryByOutTradeNo('ORDER_20240101_0001'));
    expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
    expect(err).toMatchObject({ reason });
  });

  it('queries by out_trade_no and by transaction_id', async () => {
    reply = () => ok(transaction);
    const wechat = client();
    await expect(wechat.queryByOutTradeNo('ORDER_20240101_0001')).resolves.toEqual(transaction);
    await expect(wechat.queryById('4200001234202401011234567890')).resolves.toEqual(transaction);
    expect(seen.map((s) => [s.method, s.path, s.body, s.signatureOk])).toEqual([
      ['GET', '/v3/pay/transactions/out-trade-no/ORDER_20240101_0001?mchid=1900000109', '', true],
      ['GET', '/v3/pay/transactions/id/4200001234202401011234567890?mchid=1900000109', '', true],
    ]);
  });

  it('refunds and queries a refund', async () => {
    const refund = {
      refund_id: '50000408942018111907145868882',
      out_refund_no: 'REFUND_1',
      transaction_id: transaction.transaction_id,
      out_trade_no: transaction.out_trade_no,
      status: 'PROCESSING',
      amount: { total: 100, refund: 40, currency: 'CNY' },
    };
    reply = () => ok(refund);
    const wechat = client();
    const input = { outTradeNo: 'ORDER_20240101_0001', outRefundNo: 'REFUND_1', refund: 40, total: 100 };
    await expect(wechat.refund(input)).resolves.toEqual(refund);
    await expect(wechat.queryRefund('REFUND_1')).resolves.toEqual(refund);
    expect(JSON.parse(seen[0]!.body)).toEqual({
      out_trade_no: 'ORDER_20240101_0001',
      out_refund_no: 'REFUND_1',
      amount: { refund: 40, total: 100, currency: 'CNY' },
    });
    expect(seen[1]!.path).toBe('/v3/refund/domestic/refunds/REFUND_1');
    await expect(wechat.refund({ ...input, refund: 101 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(seen).toHaveLength(2);
  });

  it('gives up after the deadline with an unknown outcome', async () => {
    reply = () => ({ hang: true });
    const err = await failure(
      client(publicKeyStore(), { timeoutMs: 150 }).queryByOutTradeNo('ORDER_20240101_0001'),
    );
    expect(err).toMatchObject({ reason: 'timeout' });
  });
});

describe('v3 client: platform certificates', () => {
  const certStore = () =>
    createV3KeyStore({
      certificates: [
        { serial: PLATFORM_CERTIFICATE_A_SERIAL, pem: PLATFORM_CERTIFICATE_A, notAfter: 1_900_000_000 },
      ],
    });
  const signedByB = () => ({ ...ok(transaction), serial: PLATFORM_CERTIFICATE_B_SERIAL });
  const downloads = () => seen.filter((s) => s.path === '/v3/certificates').length;

  it('downloads certificates on the first call, then not again for 12 hours', async () => {
    reply = () => ({ ...ok(transaction), serial: PLATFORM_CERTIFICATE_A_SERIAL });
    const wechat = client(certStore());
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(1);
    now += 12 * 3600 - 1;
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(1);
    now += 1;
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(2);
  });

  it('an unknown serial triggers one download, and no second one within a minute', async () => {
    const keys = certStore();
    reply = () => ({ ...ok(transaction), serial: PLATFORM_CERTIFICATE_A_SERIAL });
    const wechat = client(keys);
    await wechat.queryByOutTradeNo('ORDER_20240101_0001'); // the scheduled first download
    expect(downloads()).toBe(1);
    // A serial nobody announced: one download (it is not there either), then an unknown outcome.
    reply = () => ({ ...ok(transaction), serial: 'DEADBEEF' });
    now += 60;
    await expect(wechat.queryByOutTradeNo('ORDER_20240101_0001')).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    expect(downloads()).toBe(2);
    now += 59;
    await expect(wechat.queryByOutTradeNo('ORDER_20240101_0001')).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    expect(downloads()).toBe(2);
    now += 1;
    await expect(wechat.queryByOutTradeNo('ORDER_20240101_0001')).rejects.toBeInstanceOf(
      WechatUnknownOutcomeError,
    );
    expect(downloads()).toBe(3);
  });

  it('learns a rotated certificate from the download the unknown serial triggered', async () => {
    const keys = createV3KeyStore({ certificates: [] });
    const wechat = client(keys, { refreshCertificates: true });
    reply = signedByB;
    await expect(wechat.queryByOutTradeNo('ORDER_20240101_0001')).resolves.toEqual(transaction);
    expect(downloads()).toBe(1);
    expect(keys.serials().sort()).toEqual(
      [PLATFORM_CERTIFICATE_A_SERIAL, PLATFORM_CERTIFICATE_B_SERIAL].sort(),
    );
  });

  it('concurrent calls that meet the same unknown serial share one download', async () => {
    const wechat = client(createV3KeyStore({ certificates: [] }), { refreshCertificates: true });
    reply = signedByB;
    const calls = Array.from({ length: 5 }, () => wechat.queryByOutTradeNo('ORDER_20240101_0001'));
    await expect(Promise.all(calls)).resolves.toHaveLength(5);
    expect(downloads()).toBe(1);
  });

  it('downloads again within the 12 hours once the newest certificate expires in less than 12 hours', async () => {
    reply = () => ({ ...ok(transaction), serial: PLATFORM_CERTIFICATE_A_SERIAL });
    certificateExpiry = new Date((now + 13 * 3600) * 1000).toISOString();
    const wechat = client(certStore());
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(1);
    now += 3600 - 1;
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(1);
    now += 2;
    await wechat.queryByOutTradeNo('ORDER_20240101_0001');
    expect(downloads()).toBe(2);
  });

  it('certificates() bootstraps an empty store from certificates that decrypt with the APIv3 key', async () => {
    const keys = createV3KeyStore();
    const list = await client(keys, { refreshCertificates: true }).certificates();
    expect(list.map((c) => [c.serial, c.notAfter])).toEqual([
      [PLATFORM_CERTIFICATE_A_SERIAL, Date.parse('2029-01-01T00:00:00+08:00') / 1000],
      [PLATFORM_CERTIFICATE_B_SERIAL, Date.parse('2029-01-01T00:00:00+08:00') / 1000],
    ]);
    expect(list[0]!.pem).toBe(PLATFORM_CERTIFICATE_A);
    const wrongKey = client(createV3KeyStore(), { apiV3Key: 'x'.repeat(32), refreshCertificates: true });
    await expect(wrongKey.certificates()).rejects.toMatchObject({ reason: 'malformed' });
  });

  it('public-key mode never downloads certificates', async () => {
    reply = () => ({ ...ok(transaction), serial: PLATFORM_CERTIFICATE_B_SERIAL });
    await expect(client().queryByOutTradeNo('ORDER_20240101_0001')).rejects.toMatchObject({
      reason: 'bad_signature',
    });
    expect(downloads()).toBe(0);
  });
});

describe('v3 client: trade bill', () => {
  const file = '\ufeff交易时间,公众账号ID\r\n`2024-01-01 12:05:30,`wx1234567890abcdef\r\n';
  const sha1 = createHash('sha1').update(file, 'utf8').digest('hex');

  function billServer(hash: string, downloadUrl = `${baseUrl}/v3/billdownload/file?token=T0K3N`) {
    reply = (req) =>
      req.path.startsWith('/v3/bill/tradebill')
        ? ok({ hash_type: 'SHA1', hash_value: hash, download_url: downloadUrl })
        : { status: 200, body: file };
  }

  it('downloads the file with a signed request and checks its SHA1', async () => {
    billServer(sha1);
    await expect(client().tradeBill({ billDate: '2024-01-01' })).resolves.toBe(file.slice(1));
    expect(seen.map((s) => [s.path, s.signatureOk])).toEqual([
      ['/v3/bill/tradebill?bill_date=2024-01-01&bill_type=ALL', true],
      ['/v3/billdownload/file?token=T0K3N', true],
    ]);
  });

  it('asks for a GZIP file, checks the SHA1 of the bytes sent, then unpacks them', async () => {
    const packed = gzipSync(Buffer.from(file, 'utf8'));
    const packedSha1 = createHash('sha1').update(packed).digest('hex');
    reply = (req) =>
      req.path.startsWith('/v3/bill/tradebill')
        ? ok({
            hash_type: 'SHA1',
            hash_value: packedSha1,
            download_url: `${baseUrl}/v3/billdownload/file?token=T`,
          })
        : { status: 200, raw: packed };
    await expect(client().tradeBill({ billDate: '2024-01-01', tarType: 'GZIP' })).resolves.toBe(
      file.slice(1),
    );
    expect(seen[0]?.path).toBe('/v3/bill/tradebill?bill_date=2024-01-01&bill_type=ALL&tar_type=GZIP');
  });

  it('refuses a file whose SHA1 does not match', async () => {
    billServer(sha1.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    await expect(client().tradeBill({ billDate: '2024-01-01' })).rejects.toMatchObject({
      reason: 'malformed',
    });
  });

  it('never sends a signed request to a download_url on another host', async () => {
    billServer(sha1, 'https://evil.example/v3/billdownload/file?token=T0K3N');
    await expect(client().tradeBill({ billDate: '2024-01-01' })).rejects.toMatchObject({
      reason: 'malformed',
    });
    expect(seen).toHaveLength(1);
  });

  it('refuses a bill date that is not yyyy-MM-dd', async () => {
    await expect(client().tradeBill({ billDate: '20240101' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(seen).toHaveLength(0);
  });
});
