import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  lowerCaseHeaders,
  MERCHANT_PRIVATE_KEY,
  MERCHANT_PUBLIC_KEY,
  MERCHANT_SERIAL,
  PLATFORM_PRIVATE_KEY,
  PLATFORM_PUBLIC_KEY,
  PLATFORM_PUBLIC_KEY_ID,
  VECTOR_E,
  VECTOR_E2,
  VECTOR_F,
  VECTOR_F_HEADERS,
} from '../../../test/fixtures/v3-keys.js';
import {
  authorizationHeader,
  parseAuthorization,
  signRequestV3,
  signResponseV3,
  signV3,
  v3RequestMessage,
  v3ResponseMessage,
  verifyV3,
  verifyWechatpayHeaders,
} from './sign.js';

const platformKey = createPublicKey(PLATFORM_PUBLIC_KEY);
const keys = (serial: string) => (serial === PLATFORM_PUBLIC_KEY_ID ? platformKey : undefined);

const vectorEMessage = v3RequestMessage(
  VECTOR_E.method,
  VECTOR_E.path,
  VECTOR_E.timestamp,
  VECTOR_E.nonce,
  VECTOR_E.body,
);

function vectorFHeaders(overrides: Record<string, string | undefined> = {}) {
  return { ...VECTOR_F_HEADERS, ...overrides };
}

describe('v3 request signatures', () => {
  it('reproduces the known signature of a JSAPI order (POST with a body)', () => {
    const message = v3RequestMessage(
      VECTOR_E.method,
      VECTOR_E.path,
      VECTOR_E.timestamp,
      VECTOR_E.nonce,
      VECTOR_E.body,
    );
    expect(message).toBe(
      `POST\n/v3/pay/transactions/jsapi\n1704081930\n593BEC0C930BF1AFEB40B4A08C8FB242\n${VECTOR_E.body}\n`,
    );
    expect(signV3(message, MERCHANT_PRIVATE_KEY)).toBe(VECTOR_E.signature);
    expect(verifyV3(message, VECTOR_E.signature, MERCHANT_PUBLIC_KEY)).toBe(true);
  });

  it('reproduces the known signature of an order query (GET, query string, empty body)', () => {
    const message = v3RequestMessage('GET', VECTOR_E2.path, VECTOR_E2.timestamp, VECTOR_E2.nonce, '');
    expect(message).toBe(
      'GET\n/v3/pay/transactions/out-trade-no/ORDER_20240101_0001?mchid=1900000109\n1704081930\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n',
    );
    expect(signV3(message, MERCHANT_PRIVATE_KEY)).toBe(VECTOR_E2.signature);
  });

  it('builds the Authorization header WeChat expects, byte for byte', () => {
    const header = signRequestV3({
      method: 'POST',
      pathWithQuery: VECTOR_E.path,
      body: VECTOR_E.body,
      mchid: '1900000109',
      serialNo: MERCHANT_SERIAL,
      privateKey: MERCHANT_PRIVATE_KEY,
      timestamp: VECTOR_E.timestamp,
      nonce: VECTOR_E.nonce,
    });
    expect(header).toBe(
      `WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="${VECTOR_E.signature}",timestamp="1704081930",serial_no="${MERCHANT_SERIAL}"`,
    );
  });

  it('parses the Authorization header back whatever the order of its pairs', () => {
    const fields = { mchid: '1900000109', serialNo: 'ABC', nonce: 'N1', timestamp: 17, signature: 'c2ln' };
    expect(parseAuthorization(authorizationHeader(fields))).toEqual({
      mchid: '1900000109',
      nonceStr: 'N1',
      signature: 'c2ln',
      timestamp: '17',
      serialNo: 'ABC',
    });
    expect(
      parseAuthorization(
        'WECHATPAY2-SHA256-RSA2048 mchid="1",serial_no="S",timestamp="2",nonce_str="N",signature="X"',
      ),
    ).toEqual({ mchid: '1', nonceStr: 'N', signature: 'X', timestamp: '2', serialNo: 'S' });
  });

  it.each([
    undefined,
    '',
    'Bearer abc',
    'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="N",signature="X",timestamp="2"',
    'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="N",signature="X",timestamp="2"',
    'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="N",signature="X",timestamp="2",serial_no="S",extra="E"',
    'WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="N",signature="X",timestamp="2",serial_no="S"',
  ])('refuses the malformed Authorization header %j', (header) => {
    expect(parseAuthorization(header)).toBeUndefined();
  });

  it.each(['', 'not base64!', 'QUJD', 'A'.repeat(343), `${VECTOR_E.signature.slice(0, -4)}AAA=`])(
    'verifyV3 answers false, without throwing, for the signature %j',
    (signature) => {
      expect(verifyV3(vectorEMessage, signature, MERCHANT_PUBLIC_KEY)).toBe(false);
    },
  );

  it('verifyV3 answers false for a garbage PEM or a private key where a public key belongs', () => {
    expect(
      verifyV3(
        vectorEMessage,
        VECTOR_E.signature,
        '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      ),
    ).toBe(false);
    expect(verifyV3(vectorEMessage, VECTOR_E.signature, PLATFORM_PUBLIC_KEY)).toBe(false);
  });
});

describe('v3 response and notification verification', () => {
  it('verifies the known notification signature (public-key mode)', () => {
    expect(v3ResponseMessage(VECTOR_F.timestamp, VECTOR_F.nonce, VECTOR_F.body)).toBe(
      `1704081931\nb8f1c2a3d4e5f60718293a4b5c6d7e8f\n${VECTOR_F.body}\n`,
    );
    const result = verifyWechatpayHeaders({
      headers: vectorFHeaders(),
      body: VECTOR_F.body,
      keys,
      nowSeconds: VECTOR_F.timestamp,
    });
    expect(result).toEqual({ ok: true, serial: PLATFORM_PUBLIC_KEY_ID });
    expect(
      verifyWechatpayHeaders({
        headers: vectorFHeaders(),
        body: Buffer.from(VECTOR_F.body),
        keys,
        nowSeconds: VECTOR_F.timestamp,
      }),
    ).toEqual({ ok: true, serial: PLATFORM_PUBLIC_KEY_ID });
  });

  it('signResponseV3 reproduces the known notification headers', () => {
    const headers = signResponseV3({
      body: VECTOR_F.body,
      privateKey: PLATFORM_PRIVATE_KEY,
      serial: PLATFORM_PUBLIC_KEY_ID,
      timestamp: VECTOR_F.timestamp,
      nonce: VECTOR_F.nonce,
    });
    expect(headers).toEqual({
      'Wechatpay-Timestamp': '1704081931',
      'Wechatpay-Nonce': VECTOR_F.nonce,
      'Wechatpay-Signature': VECTOR_F.signature,
      'Wechatpay-Serial': PLATFORM_PUBLIC_KEY_ID,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    });
  });

  it('verifies a signed 204 (empty body)', () => {
    const signed = signResponseV3({
      body: '',
      privateKey: PLATFORM_PRIVATE_KEY,
      serial: PLATFORM_PUBLIC_KEY_ID,
      timestamp: 100,
      nonce: 'n',
    });
    const headers = lowerCaseHeaders(signed);
    expect(verifyWechatpayHeaders({ headers, body: '', keys, nowSeconds: 100 }).ok).toBe(true);
    expect(verifyWechatpayHeaders({ headers, body: '{}', keys, nowSeconds: 100 })).toEqual({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('accepts a timestamp exactly 300 s away and refuses 301 s, in either direction', () => {
    const at = (now: number) =>
      verifyWechatpayHeaders({ headers: vectorFHeaders(), body: VECTOR_F.body, keys, nowSeconds: now });
    expect(at(VECTOR_F.timestamp + 300).ok).toBe(true);
    expect(at(VECTOR_F.timestamp - 300).ok).toBe(true);
    expect(at(VECTOR_F.timestamp + 301)).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_WINDOW' });
    expect(at(VECTOR_F.timestamp - 301)).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_WINDOW' });
    expect(
      verifyWechatpayHeaders({
        headers: vectorFHeaders(),
        body: VECTOR_F.body,
        keys,
        nowSeconds: VECTOR_F.timestamp + 10,
        toleranceSeconds: 5,
      }),
    ).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_WINDOW' });
  });

  it('reports a signature probe as SIGN_PROBE, before any other check', () => {
    const headers = vectorFHeaders({
      'wechatpay-signature': 'WECHATPAY/SIGNTEST/abcdef',
      'wechatpay-serial': 'NOPE',
    });
    expect(verifyWechatpayHeaders({ headers, body: VECTOR_F.body, keys, nowSeconds: 0 })).toEqual({
      ok: false,
      reason: 'SIGN_PROBE',
    });
    const bare = { 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abcdef' };
    expect(verifyWechatpayHeaders({ headers: bare, body: '', keys, nowSeconds: 0 })).toEqual({
      ok: false,
      reason: 'SIGN_PROBE',
    });
  });

  it.each([
    [{ 'wechatpay-signature': undefined }, 'MISSING_HEADERS'],
    [{ 'wechatpay-nonce': '' }, 'MISSING_HEADERS'],
    [{ 'wechatpay-timestamp': '17040819xx' }, 'TIMESTAMP_OUT_OF_WINDOW'],
    [{ 'wechatpay-timestamp': '-1704081931' }, 'TIMESTAMP_OUT_OF_WINDOW'],
    [{ 'wechatpay-serial': 'PUB_KEY_ID_0000' }, 'UNKNOWN_SERIAL'],
    [{ 'wechatpay-nonce': 'b8f1c2a3d4e5f60718293a4b5c6d7e8e' }, 'BAD_SIGNATURE'],
    [{ 'wechatpay-signature': '%%%' }, 'BAD_SIGNATURE'],
    [{ 'wechatpay-signature': 'QUJD' }, 'BAD_SIGNATURE'],
  ] as const)('refuses headers %j with %s', (overrides, reason) => {
    const headers = vectorFHeaders(overrides as Record<string, string | undefined>);
    expect(
      verifyWechatpayHeaders({ headers, body: VECTOR_F.body, keys, nowSeconds: VECTOR_F.timestamp }),
    ).toEqual({
      ok: false,
      reason,
    });
  });

  it('refuses a repeated header rather than picking one of its values', () => {
    const headers = { ...vectorFHeaders(), 'wechatpay-serial': [VECTOR_F.serial, VECTOR_F.serial] };
    expect(
      verifyWechatpayHeaders({ headers, body: VECTOR_F.body, keys, nowSeconds: VECTOR_F.timestamp }).ok,
    ).toBe(false);
  });

  it('a key resolver that throws is an unknown serial, not a crash', () => {
    const throwing = () => {
      throw new Error('boom');
    };
    expect(
      verifyWechatpayHeaders({
        headers: vectorFHeaders(),
        body: VECTOR_F.body,
        keys: throwing,
        nowSeconds: VECTOR_F.timestamp,
      }),
    ).toEqual({ ok: false, reason: 'UNKNOWN_SERIAL' });
  });
});
