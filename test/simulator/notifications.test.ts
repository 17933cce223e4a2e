import { afterEach, describe, expect, it } from 'vitest';
import { verifyPaymentNotification } from '../../src/wechat/v2/notify.js';
import { verifyRefundNotification } from '../../src/wechat/v2/refund-notify.js';
import {
  FAIL_REPLY,
  KEY,
  orderInput,
  START_MS,
  SUCCESS_REPLY,
  startReceiver,
  type startSim,
  startTlsSim,
} from './harness.js';

type TlsHarness = Awaited<ReturnType<typeof startTlsSim>>;

/** Payment and refund notifications: signing, judging replies, the retry schedule, NOTIFY_* faults. */

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(
  script: Parameters<typeof startReceiver>[0],
  options: Parameters<typeof startSim>[0] = {},
) {
  const h = await startTlsSim(options);
  const receiver = await startReceiver(script);
  open.push(h, receiver);
  return { h, receiver };
}

async function paidOrder(
  h: TlsHarness,
  receiver: Receiver,
  outTradeNo: string,
  headers = {},
  signType?: 'HMAC-SHA256',
) {
  const { openid } = await h.login();
  const c = h.tlsClient(signType ? { signType } : {});
  const { prepayId } = await c.unifiedOrder(orderInput(outTradeNo, openid, receiver.url));
  const paid = await h.pay(prepayId, 'SUCCESS', headers);
  expect(paid.status).toBe(200);
  await h.clock.settle();
  return { openid, client: c };
}

/** Attempt offsets in seconds: each documented wait added to the previous attempt (《支付结果通知》). */
const OFFSETS = [0, 15, 30, 60, 240, 840, 2040, 3840, 5640, 7440, 11040, 21840, 32640, 43440, 65040, 86640];

describe('retry schedule', () => {
  it('retries a failing merchant 15 times on 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h, attempt by attempt', async () => {
    const { h, receiver } = await setup(() => ({ body: FAIL_REPLY }));
    await paidOrder(h, receiver, 'RETRY_ALL_001');
    expect(receiver.received).toHaveLength(1);
    for (let i = 1; i < OFFSETS.length; i++) {
      const gap = (OFFSETS[i]! - OFFSETS[i - 1]!) * 1000;
      await h.clock.advance(gap - 1000);
      expect(receiver.received).toHaveLength(i);
      await h.clock.advance(1000);
      expect(receiver.received).toHaveLength(i + 1);
    }
    await h.clock.advance(7 * 86400_000);
    const attempts = await h.attempts('?out_trade_no=RETRY_ALL_001');
    expect(attempts.map((a) => a.attempt)).toEqual(OFFSETS.map((_, i) => i + 1));
    expect(attempts.map((a) => Date.parse(a.scheduled_at) - START_MS)).toEqual(OFFSETS.map((s) => s * 1000));
    expect(attempts.map((a) => a.sent_at)).toEqual(attempts.map((a) => a.scheduled_at));
    expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(['failed']));
    expect(attempts[0]).toMatchObject({ http_status: 200, reply: FAIL_REPLY, ok: false, kind: 'payment' });
  });

  it('stops once the merchant answers SUCCESS after two FAILs', async () => {
    const { h, receiver } = await setup((n) => ({ body: n < 3 ? FAIL_REPLY : SUCCESS_REPLY }));
    await paidOrder(h, receiver, 'RETRY_OK_0001');
    await h.clock.advance(15_000);
    await h.clock.advance(15_000);
    await h.clock.advance(86400_000);
    const attempts = await h.attempts('?out_trade_no=RETRY_OK_0001');
    expect(attempts.map((a) => [a.attempt, a.status, a.ok])).toEqual([
      [1, 'failed', false],
      [2, 'failed', false],
      [3, 'delivered', true],
    ]);
    expect(receiver.received).toHaveLength(3);
  });

  it.each([
    ['plain "success"', { body: 'success' }],
    ['JSON', { body: '{"code":"SUCCESS"}' }],
    ['HTTP 500 with a SUCCESS body', { status: 500, body: SUCCESS_REPLY }],
  ])('judges a reply of %s as a failure, as WeChat does', async (_n, reply) => {
    const { h, receiver } = await setup(() => reply);
    await paidOrder(h, receiver, 'JUDGE_REPLY_1');
    const [first] = await h.attempts();
    expect(first).toMatchObject({
      status: 'failed',
      ok: false,
      http_status: 'status' in reply ? reply.status : 200,
      reply: reply.body,
    });
    expect(h.clock.pending()).toBe(1);
  });

  it('counts a merchant that does not answer within the timeout as failed', async () => {
    const { h, receiver } = await setup(() => 'hang', { behaviour: { notifyTimeoutMs: 150 } });
    await paidOrder(h, receiver, 'TIMEOUT_00001');
    const [first] = await h.attempts();
    expect(first).toMatchObject({ status: 'failed', http_status: null, error: 'timeout after 150 ms' });
  });

  it('compresses the waits by the time scale', async () => {
    const { h, receiver } = await setup(() => ({ body: FAIL_REPLY }), { timeScale: 60 });
    await paidOrder(h, receiver, 'TIMESCALE_001');
    await h.clock.advance(250);
    await h.clock.advance(250);
    expect((await h.attempts()).map((a) => Date.parse(a.scheduled_at) - START_MS)).toEqual([
      0, 250, 500, 1000,
    ]);
  });
});

describe('notification content', () => {
  it('sends a payment notification the protocol layer verifies with the merchant key', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    const { openid } = await paidOrder(h, receiver, 'CONTENT_MD5_1');
    const n = verifyPaymentNotification(receiver.received[0]!, { key: KEY, signType: 'MD5' });
    expect(n).toMatchObject({
      outTradeNo: 'CONTENT_MD5_1',
      totalFee: 100,
      cashFee: 100,
      openid,
      timeEnd: '20240101120530',
    });
    expect(n.fields.sign_type).toBeUndefined();
  });

  it('signs the notification of an HMAC-SHA256 order with HMAC-SHA256', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    await paidOrder(h, receiver, 'CONTENT_HMAC1', {}, 'HMAC-SHA256');
    const n = verifyPaymentNotification(receiver.received[0]!, { key: KEY, signType: 'HMAC-SHA256' });
    expect(n.fields.sign_type).toBe('HMAC-SHA256');
    expect(n.fields.sign).toHaveLength(64);
  });
});

describe('notification faults', () => {
  it('NOTIFY_DROP drops every attempt until the fault is deleted', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    const fault = await h.json('POST', '/sim/faults', { fault: 'NOTIFY_DROP' });
    expect(fault.status).toBe(201);
    await paidOrder(h, receiver, 'DROP_0000001');
    await h.clock.advance(60_000);
    expect(receiver.received).toHaveLength(0);
    expect((await h.attempts()).map((a) => a.status)).toEqual([
      'dropped',
      'dropped',
      'dropped',
      'dropped',
      'scheduled',
    ]);
    expect((await h.json('DELETE', `/sim/faults/${fault.body.id}`)).body).toEqual({ removed: 1 });
    await h.clock.advance(180_000);
    expect(receiver.received).toHaveLength(1);
    expect((await h.attempts()).at(-1)).toMatchObject({ attempt: 5, status: 'delivered' });
  });

  it('NOTIFY_DUPLICATE sends N identical copies of an attempt concurrently', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    await paidOrder(h, receiver, 'DUPLICATE_001', {
      'x-sim-fault': 'NOTIFY_DUPLICATE',
      'x-sim-fault-params': '{"copies":3}',
    });
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received).size).toBe(1);
    expect((await h.attempts()).map((a) => [a.attempt, a.copy, a.status])).toEqual([
      [1, 1, 'delivered'],
      [1, 2, 'delivered'],
      [1, 3, 'delivered'],
    ]);
  });

  it('NOTIFY_DELAY holds the first attempt for params.seconds', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    await h.json('POST', '/sim/faults', { fault: 'NOTIFY_DELAY', params: { seconds: 120 } });
    await paidOrder(h, receiver, 'DELAY_0000001');
    await h.clock.advance(119_000);
    expect(receiver.received).toHaveLength(0);
    await h.clock.advance(1000);
    expect(receiver.received).toHaveLength(1);
  });

  it('NOTIFY_OUT_OF_ORDER delivers the refund notification before the payment one', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }), {
      behaviour: { refundDelaySeconds: 30 },
    });
    await h.json('POST', '/sim/faults', { fault: 'NOTIFY_OUT_OF_ORDER', out_trade_no: 'OUT_OF_ORDER1' });
    const { client } = await paidOrder(h, receiver, 'OUT_OF_ORDER1');
    expect(receiver.received).toHaveLength(0);
    await client.refund({
      outTradeNo: 'OUT_OF_ORDER1',
      outRefundNo: 'R_OOO_1',
      totalFee: 100,
      refundFee: 100,
      notifyUrl: receiver.url,
    });
    await h.clock.advance(30_000);
    expect(receiver.received).toHaveLength(2);
    expect(verifyRefundNotification(receiver.received[0]!, { key: KEY }).refundStatus).toBe('SUCCESS');
    expect(verifyPaymentNotification(receiver.received[1]!, { key: KEY }).outTradeNo).toBe('OUT_OF_ORDER1');
  });

  it('COUPON lowers cash_fee below total_fee in the notification and the query', async () => {
    const { h, receiver } = await setup(() => ({ body: SUCCESS_REPLY }));
    const { client } = await paidOrder(h, receiver, 'COUPON_000001', {
      'x-sim-fault': 'COUPON',
      'x-sim-fault-params': '{"coupon_fee":30}',
    });
    const n = verifyPaymentNotification(receiver.received[0]!, { key: KEY });
    expect([n.totalFee, n.cashFee, n.fields.coupon_fee]).toEqual([100, 70, '30']);
    expect(await client.orderQuery({ outTradeNo: 'COUPON_000001' })).toMatchObject({
      totalFee: 100,
      cashFee: 70,
    });
  });
});
