import { afterEach, describe, expect, it } from 'vitest';
import { WechatUnknownOutcomeError } from '../../src/wechat/errors.js';
import { createV3KeyStore } from '../../src/wechat/v3/keys.js';
import { orderInput, type SimHarness, startSim } from './harness.js';
import { jsapiBody, startV3Sim } from './v3-harness.js';

/**
 * SLOW_RESPONSE and PARTIAL_BODY against weapp-pay's own v2 and v3 clients: a late answer is a
 * timeout when the client's timeout is shorter, and an answer cut off mid-body is an unknown
 * outcome, not a crash. Both act after the call is applied, so the order exists either way.
 */

const NOTIFY = 'http://127.0.0.1:9/payment/notify';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** Places an order through our client with the given timeout; both return what the call answered. */
type Place = (outTradeNo: string, timeoutMs: number) => Promise<{ prepayId: string }>;

const FLAVOURS: Record<'v2' | 'v3', () => Promise<{ h: Pick<SimHarness, 'json'>; place: Place }>> = {
  async v2() {
    const h = await startSim();
    open.push(h);
    const { openid } = await h.login();
    return {
      h,
      place: (outTradeNo, timeoutMs) =>
        h.client({ timeoutMs }).unifiedOrder(orderInput(outTradeNo, openid, NOTIFY)),
    };
  },
  async v3() {
    const h = await startV3Sim({ v3: { v3KeyMode: 'public-key' } });
    open.push(h);
    const published = await h.keys();
    const { openid } = await h.login();
    return {
      h,
      place(outTradeNo, timeoutMs) {
        const keys = createV3KeyStore({
          publicKey: { id: published.publicKeyId, pem: published.publicKeyPem },
        });
        const client = h.ourClient(keys, { timeoutMs });
        open.push(client);
        return client.jsapi({
          description: '咖啡',
          notifyUrl: 'https://m.example/notify',
          total: 100,
          openid,
          outTradeNo,
        });
      },
    };
  },
};

const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('the call should fail'),
    (e: unknown) => e,
  );

describe.each(['v2', 'v3'] as const)('API %s', (flavour) => {
  async function setup() {
    const { h, place } = await FLAVOURS[flavour]();
    const fault = (name: string, params: object) =>
      h.json('POST', '/sim/faults', { fault: name, api: 'unifiedorder', params });
    const placed = async (outTradeNo: string): Promise<number> =>
      (await h.json('GET', `/sim/orders?out_trade_no=${outTradeNo}`)).body.orders.length;
    return { place, fault, placed };
  }

  it('SLOW_RESPONSE longer than the client timeout: the client times out, yet the order was placed', async () => {
    const { place, fault, placed } = await setup();
    expect((await fault('SLOW_RESPONSE', { seconds: 1 })).status).toBe(201);
    const error = await failure(place(`SLOW_${flavour}_TIMEOUT`, 250));
    expect(error).toBeInstanceOf(WechatUnknownOutcomeError);
    expect((error as WechatUnknownOutcomeError).reason).toBe('timeout');
    expect(await placed(`SLOW_${flavour}_TIMEOUT`)).toBe(1);
    // Used once: the identical retry is answered at once, on the order already placed.
    expect((await place(`SLOW_${flavour}_TIMEOUT`, 250)).prepayId).toMatch(/^wx/);
  });

  it('SLOW_RESPONSE shorter than the client timeout: the normal answer, late', async () => {
    const { place, fault } = await setup();
    await fault('SLOW_RESPONSE', { seconds: 0.4 });
    const started = Date.now();
    expect((await place(`SLOW_${flavour}_LATE`, 3000)).prepayId).toMatch(/^wx/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('PARTIAL_BODY: the client reports an unknown outcome, and the order was placed', async () => {
    const { place, fault, placed } = await setup();
    await fault('PARTIAL_BODY', {});
    const error = await failure(place(`PARTIAL_${flavour}`, 3000));
    expect(error).toBeInstanceOf(WechatUnknownOutcomeError);
    expect((error as WechatUnknownOutcomeError).reason).toBe('network');
    expect(await placed(`PARTIAL_${flavour}`)).toBe(1);
    expect((await place(`PARTIAL_${flavour}`, 3000)).prepayId).toMatch(/^wx/);
  });
});

describe('by request header', () => {
  it('SLOW_RESPONSE holds a v3 answer params.seconds, then sends the normal, verifiable answer', async () => {
    const h = await startV3Sim({ v3: { v3KeyMode: 'public-key' } });
    open.push(h);
    const { openid } = await h.login();
    const started = Date.now();
    const res = await h.call(
      'POST',
      '/v3/pay/transactions/jsapi',
      jsapiBody('SLOW_HEADER_1', openid, NOTIFY),
      {
        headers: { 'x-sim-fault': 'SLOW_RESPONSE', 'x-sim-fault-params': '{"seconds":0.3}' },
      },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(res.status).toBe(200);
    expect((await h.verify(res)).ok).toBe(true);
  });

  it('PARTIAL_BODY sends the headers and the first bytes, then destroys the socket', async () => {
    const h = await startV3Sim({ v3: { v3KeyMode: 'public-key' } });
    open.push(h);
    const { openid } = await h.login();
    const error = await failure(
      h.call('POST', '/v3/pay/transactions/jsapi', jsapiBody('PARTIAL_HEADER', openid, NOTIFY), {
        headers: { 'x-sim-fault': 'PARTIAL_BODY' },
      }),
    );
    expect(String(error)).toMatch(/other side closed|terminated|socket/i);
  });
});
