import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MCH_ID, OTHER_MCH_ID, testCertificates } from './harness.js';
import { jsapiBody, startV3Sim, V3_MERCHANTS, type V3Harness } from './v3-harness.js';

/**
 * Both directions of the v3 signature: the simulator refuses what WeChat refuses (401
 * SIGN_ERROR), and signs every answer, errors and 204 included, with the key it publishes.
 */

const open: V3Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function sim(options: Parameters<typeof startV3Sim>[0] = {}) {
  const h = await startV3Sim(options);
  open.push(h);
  return h;
}

const QUERY = `/v3/pay/transactions/out-trade-no/NO_SUCH_ORDER?mchid=${MCH_ID}`;

describe('request signatures', () => {
  it('refuses a forged signature, another serial, a stale or future timestamp, a foreign mchid: 401 SIGN_ERROR', async () => {
    const h = await sim();
    const { openid } = await h.login();
    const body = jsapiBody('V3_SIGN_00001', openid, 'https://m.example/n');
    const refusals = [
      await h.call('POST', '/v3/pay/transactions/jsapi', body, {
        signedBody: JSON.stringify({ ...body, amount: { total: 1 } }),
      }),
      await h.call('GET', QUERY, undefined, { serial: '1234567890ABCDEF1234567890ABCDEF12345678' }),
      await h.call('GET', QUERY, undefined, { timestamp: h.nowSeconds() - 301 }),
      await h.call('GET', QUERY, undefined, { timestamp: h.nowSeconds() + 301 }),
      await h.call('POST', '/v3/pay/transactions/jsapi', { ...body, mchid: OTHER_MCH_ID }),
      await h.call('GET', `/v3/pay/transactions/out-trade-no/X?mchid=${OTHER_MCH_ID}`),
      await h.call('GET', QUERY, undefined, { headers: { authorization: 'Bearer nothing' } }),
      // A merchant without an API certificate cannot sign v3 requests.
      await h.call('GET', QUERY, undefined, { mchid: OTHER_MCH_ID }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SIGN_ERROR');
      expect(await h.verify(res)).toMatchObject({ ok: true });
    }
    expect(
      (await h.call('GET', `/v3/pay/transactions/out-trade-no/V3_SIGN_00001?mchid=${MCH_ID}`)).status,
    ).toBe(404);
    expect(await h.call('GET', QUERY, undefined, { mchid: '1999999999' })).toMatchObject({
      status: 400,
      body: { code: 'MCH_NOT_EXISTS' },
    });
  });

  it('accepts a timestamp 300 s off, and the window is a knob', async () => {
    const h = await sim();
    expect((await h.call('GET', QUERY, undefined, { timestamp: h.nowSeconds() - 300 })).status).toBe(404);
    expect((await h.call('GET', QUERY, undefined, { timestamp: h.nowSeconds() + 300 })).status).toBe(404);
    const narrow = await sim({ behaviour: { v3TimestampToleranceSeconds: 60 } });
    expect((await narrow.call('GET', QUERY, undefined, { timestamp: narrow.nowSeconds() - 61 })).status).toBe(
      401,
    );
  });
});

describe('response signatures', () => {
  it('signs every answer with the published key: 200, 204, 400, 401, 404 and 500', async () => {
    const h = await sim();
    const { prepayId } = await h.order('V3_RESP_00001');
    expect(prepayId).toBeTruthy();
    const responses = [
      await h.call('GET', `/v3/pay/transactions/out-trade-no/V3_RESP_00001?mchid=${MCH_ID}`),
      await h.call('POST', '/v3/pay/transactions/out-trade-no/V3_RESP_00001/close', { mchid: MCH_ID }),
      await h.call('POST', '/v3/pay/transactions/jsapi', '{}'),
      await h.call('GET', QUERY, undefined, { timestamp: 1 }),
      await h.call('GET', QUERY),
      await h.call('GET', QUERY, undefined, { headers: { 'x-sim-fault': 'SYSTEMERROR' } }),
    ];
    responses.push(
      await h.call('GET', '/v3/no/such/route'),
      await h.call('GET', '/v3/pay/transactions/jsapi'),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 204, 400, 401, 404, 500, 404, 404]);
    expect(responses[6]!.body.code).toBe('NOT_FOUND');
    expect(responses[5]!.body).toEqual({ code: 'SYSTEM_ERROR', message: '系统繁忙，请稍后重试' });
    const { publicKeyId } = await h.keys();
    for (const res of responses) {
      expect(await h.verify(res)).toEqual({ ok: true, serial: publicKeyId });
      expect(res.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
      expect(res.headers['request-id']).toBeTruthy();
    }
  });

  it.each([
    ['STALE_TIMESTAMP', 'TIMESTAMP_OUT_OF_WINDOW'],
    ['WRONG_SERIAL', 'UNKNOWN_SERIAL'],
    ['BAD_RESPONSE_SIGNATURE', 'BAD_SIGNATURE'],
  ])('%s spoils one response so that verification says %s', async (fault, reason) => {
    const h = await sim();
    const spoiled = await h.call('GET', QUERY, undefined, { headers: { 'x-sim-fault': fault } });
    expect(spoiled.status).toBe(404);
    expect(await h.verify(spoiled)).toEqual({ ok: false, reason });
    // Set with /sim/faults, it spoils the next matching call only.
    expect((await h.json('POST', '/sim/faults', { fault, api: 'orderquery' })).status).toBe(201);
    expect(await h.verify(await h.call('GET', QUERY))).toEqual({ ok: false, reason });
    expect(await h.verify(await h.call('GET', QUERY))).toMatchObject({ ok: true });
  });
});

describe('key modes and rotation', () => {
  it('public-key mode signs with PUB_KEY_ID_… and lists no certificate', async () => {
    const h = await sim();
    const keys = await h.keys();
    expect(keys.publicKeyId).toMatch(/^PUB_KEY_ID_\d+$/);
    expect(keys.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(keys.certificates).toEqual([]);
    const res = await h.call('GET', QUERY);
    expect(res.headers['wechatpay-serial']).toBe(keys.publicKeyId);
    expect((await h.call('GET', '/v3/certificates')).body).toEqual({ data: [] });
  });

  it('certificate mode signs with the platform certificate; a rotation adds one that signs from then on, the old one still listed', async () => {
    const h = await sim({ v3: { v3KeyMode: 'certificate' } });
    const before = await h.keys();
    expect(before.certificates).toHaveLength(1);
    const old = before.certificates[0]!;
    expect(old.serial).toMatch(/^[0-9A-F]{40}$/);
    const first = await h.call('GET', QUERY);
    expect(first.headers['wechatpay-serial']).toBe(old.serial);
    expect(await h.verify(first)).toEqual({ ok: true, serial: old.serial });

    const rotated = await h.json('POST', '/sim/v3/rotate');
    expect(rotated.status).toBe(201);
    const after = await h.keys();
    expect(after.certificates.map((c) => c.serial)).toEqual([old.serial, rotated.body.serial]);
    const listed = await h.call('GET', '/v3/certificates');
    expect(listed.body.data.map((c: { serial_no: string }) => c.serial_no)).toEqual([
      old.serial,
      rotated.body.serial,
    ]);
    const next = await h.call('GET', QUERY);
    expect(next.headers['wechatpay-serial']).toBe(rotated.body.serial);
    expect(await h.verify(next)).toEqual({ ok: true, serial: rotated.body.serial });
    // A client that still names the old certificate is answered with it.
    const named = await h.call('GET', QUERY, undefined, { headers: { 'wechatpay-serial': old.serial } });
    expect(named.headers['wechatpay-serial']).toBe(old.serial);
    expect(await h.verify(named)).toMatchObject({ ok: true });
  });

  it('both mode signs with either key, and follows the Wechatpay-Serial the request names', async () => {
    const h = await sim({ v3: { v3KeyMode: 'both' } });
    const keys = await h.keys();
    const cert = keys.certificates[0]!.serial;
    const serials = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await h.call('GET', QUERY);
      expect(await h.verify(res)).toMatchObject({ ok: true });
      serials.add(String(res.headers['wechatpay-serial']));
    }
    expect(serials).toEqual(new Set([keys.publicKeyId, cert]));
    for (const wanted of [keys.publicKeyId, cert, keys.publicKeyId]) {
      const res = await h.call('GET', QUERY, undefined, { headers: { 'wechatpay-serial': wanted } });
      expect(res.headers['wechatpay-serial']).toBe(wanted);
      expect(await h.verify(res)).toEqual({ ok: true, serial: wanted });
    }
  });
});

describe('a merchant certificate made by generateTestCertificates', () => {
  it('is RSA, so the same certificate serves v2 mutual TLS and v3 request signing', async () => {
    const certs = await testCertificates();
    const serial = new X509Certificate(certs.clientCert).serialNumber.toUpperCase();
    const h = await sim({ merchants: [{ ...V3_MERCHANTS[0]!, cert: certs.clientCert }] });
    const res = await h.call('GET', QUERY, undefined, { serial, privateKey: certs.clientKey });
    expect(res).toMatchObject({ status: 404, body: { code: 'ORDER_NOT_EXIST' } });
    expect(await h.verify(res)).toMatchObject({ ok: true });
  });
});
