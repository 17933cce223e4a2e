import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimClock } from '../../src/simulator/index.js';
import { verifyRefundNotification } from '../../src/wechat/v2/refund-notify.js';
import {
  FAIL_REPLY,
  KEY,
  orderInput,
  type SimOptions,
  START_MS,
  SUCCESS_REPLY,
  startTlsSim,
} from './harness.js';

/**
 * How the simulator delivers, as WeChat does: different orders concurrently, one order's
 * attempts one at a time, retries on their planned times, and the DELAY and REORDER faults.
 */

type Harness = Awaited<ReturnType<typeof startTlsSim>>;

/** One request the merchant received: what it was about, and when it started and ended (real ms). */
interface Seen {
  order: string;
  kind: 'payment' | 'refund';
  body: string;
  startedAt: number;
  endedAt?: number;
}

type Answer = { status?: number; body: string } | 'hang' | Promise<{ status?: number; body: string }>;

/** A merchant on node:http, port 0, answering each request from `script` (which may take its time). */
async function startMerchant(script: (seen: Seen) => Answer) {
  const seen: Seen[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const refund = body.includes('<req_info>');
      const s: Seen = {
        order: /<out_trade_no>(?:<!\[CDATA\[)?([^<\]]*)/.exec(body)?.[1] ?? '',
        kind: refund ? 'refund' : 'payment',
        body,
        startedAt: Date.now(),
      };
      seen.push(s);
      const answer = script(s);
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      const a = await answer;
      s.endedAt = Date.now();
      res.writeHead(a.status ?? 200, { 'content-type': 'text/xml' }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/payment/notify/v2`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type Merchant = Awaited<ReturnType<typeof startMerchant>>;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(script: (seen: Seen) => Answer, options: SimOptions = {}) {
  const h = await startTlsSim(options);
  const merchant = await startMerchant(script);
  open.push(h, merchant);
  const { openid } = await h.login();
  return { h, merchant, client: h.tlsClient(), openid };
}

/** Places and pays an order without waiting for its notification to be answered. */
async function pay(h: Harness, merchant: Merchant, openid: string, outTradeNo: string, headers = {}) {
  const { prepayId } = await h.tlsClient().unifiedOrder(orderInput(outTradeNo, openid, merchant.url));
  expect((await h.pay(prepayId, 'SUCCESS', headers)).status).toBe(200);
}

/** Real-time wait for something the simulator does over the network (not for logic under test). */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Expects nothing at the merchant one second before `seconds` from now, and one request at `seconds`. */
async function expectHeldFor(h: Harness, merchant: Merchant, seconds: number): Promise<void> {
  await h.clock.advance(seconds * 1000 - 1000);
  expect(merchant.seen).toHaveLength(0);
  await h.clock.advance(1000);
  expect(merchant.seen).toHaveLength(1);
}

type Client = ReturnType<Harness['tlsClient']>;
const refundAll = (client: Client, outTradeNo: string, outRefundNo: string, url: string, refundFee = 100) =>
  client.refund({ outTradeNo, outRefundNo, totalFee: 100, refundFee, notifyUrl: url });

/** A promise the test resolves by hand: the merchant's answer to a request it is holding. */
function gate() {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('delivery across orders', () => {
  it('three orders whose merchant hangs do not delay a fourth order', async () => {
    const { h, merchant, openid } = await setup(
      (s) => (s.order === 'CONCURRENT_04' ? { body: SUCCESS_REPLY } : 'hang'),
      { behaviour: { notifyTimeoutMs: 10_000 } },
    );
    for (const n of ['01', '02', '03']) await pay(h, merchant, openid, `CONCURRENT_${n}`);
    await until(() => merchant.seen.length === 3);
    const paidAt = Date.now();
    await pay(h, merchant, openid, 'CONCURRENT_04');
    await until(() => merchant.seen.some((s) => s.order === 'CONCURRENT_04'));
    // The three hanging attempts wait 10 s for their timeout; the fourth did not wait for them.
    expect(Date.now() - paidAt).toBeLessThan(3000);
    await until(() => merchant.seen.at(-1)?.endedAt !== undefined);
    const attempts = await h.attempts();
    expect(attempts.map((a) => [a.out_trade_no, a.status])).toEqual([
      ['CONCURRENT_01', 'sending'],
      ['CONCURRENT_02', 'sending'],
      ['CONCURRENT_03', 'sending'],
      ['CONCURRENT_04', 'delivered'],
    ]);
  });

  it('never overlaps two attempts of one order: a refund notification is queued behind the payment one in flight', async () => {
    const held = gate();
    const { h, merchant, client, openid } = await setup(
      (s) =>
        s.kind === 'payment' ? held.opened.then(() => ({ body: SUCCESS_REPLY })) : { body: SUCCESS_REPLY },
      { behaviour: { refundDelaySeconds: 0, notifyTimeoutMs: 10_000 } },
    );
    await pay(h, merchant, openid, 'SEQUENCE_0001');
    await until(() => merchant.seen.length === 1);
    await refundAll(client, 'SEQUENCE_0001', 'R_SEQUENCE_1', merchant.url);
    await until(() => h.clock.pending() === 0);
    expect((await h.attempts()).map((a) => [a.kind, a.status])).toEqual([
      ['payment', 'sending'],
      ['refund', 'queued'],
    ]);
    expect(merchant.seen).toHaveLength(1);
    held.open();
    await until(() => merchant.seen.length === 2);
    await h.clock.settle();
    const [payment, refund] = merchant.seen;
    expect(refund?.kind).toBe('refund');
    expect(refund!.startedAt).toBeGreaterThanOrEqual(payment!.endedAt!);
    expect((await h.attempts()).map((a) => [a.kind, a.status])).toEqual([
      ['payment', 'delivered'],
      ['refund', 'delivered'],
    ]);
  });
});

describe('retry schedule under timeouts', () => {
  it('keeps every retry on its planned time when each attempt times out', async () => {
    // WeChat waits for the merchant; here each request moves the clock's base time on by 5 s,
    // then the merchant never answers and the attempt times out.
    let base = START_MS;
    const clock = createSimClock({ base: { now: () => base }, startMs: START_MS });
    const { h, merchant, openid } = await setup(
      () => {
        base += 5000;
        return 'hang';
      },
      { clock, behaviour: { notifyTimeoutMs: 100 } },
    );
    await pay(h, merchant, openid, 'NO_DRIFT_0001');
    await h.clock.settle();
    await h.clock.advance(START_MS + 240_000 - h.clock.now());
    const attempts = await h.attempts('?out_trade_no=NO_DRIFT_0001');
    const offsets = (at: (string | null)[]) => at.map((t) => (Date.parse(t!) - START_MS) / 1000);
    // 《支付结果通知》: 15s, 15s, 30s, 3m after the first attempt, each from the previous planned time.
    expect(offsets(attempts.map((a) => a.scheduled_at))).toEqual([0, 15, 30, 60, 240, 840]);
    const sent = attempts.slice(0, 5);
    expect(offsets(sent.map((a) => a.sent_at))).toEqual([0, 15, 30, 60, 240]);
    expect(sent.map((a) => a.error)).toEqual(Array(5).fill('timeout after 100 ms'));
    expect(attempts[5]?.status).toBe('scheduled');
  });
});

describe('DELAY and REORDER', () => {
  it('DELAY from the X-Sim-Fault header holds the notification params.seconds', async () => {
    const { h, merchant, openid } = await setup(() => ({ body: SUCCESS_REPLY }));
    await pay(h, merchant, openid, 'DELAY_HEADER1', {
      'x-sim-fault': 'DELAY',
      'x-sim-fault-params': '{"seconds":45}',
    });
    await expectHeldFor(h, merchant, 45);
    const [attempt] = await h.attempts();
    expect(Date.parse(attempt!.sent_at!) - START_MS).toBe(45_000);
  });

  it('REORDER from the header sends the refund notification before its payment notification', async () => {
    const { h, merchant, client, openid } = await setup(() => ({ body: SUCCESS_REPLY }), {
      behaviour: { refundDelaySeconds: 30 },
    });
    await pay(h, merchant, openid, 'REORDER_PAY_1', { 'x-sim-fault': 'REORDER' });
    await h.clock.settle();
    expect(merchant.seen).toHaveLength(0);
    await refundAll(client, 'REORDER_PAY_1', 'R_REORDER_P1', merchant.url);
    await h.clock.advance(30_000);
    expect(merchant.seen.map((s) => [s.kind, s.order])).toEqual([
      ['refund', ''],
      ['payment', 'REORDER_PAY_1'],
    ]);
  });

  it('REORDER from /sim/faults sends a later refund notification before an earlier one', async () => {
    const { h, merchant, client, openid } = await setup(() => ({ body: SUCCESS_REPLY }), {
      behaviour: { refundDelaySeconds: 10 },
    });
    await pay(h, merchant, openid, 'REORDER_REF_1');
    await h.clock.settle();
    await h.json('POST', '/sim/faults', { fault: 'REORDER', out_trade_no: 'REORDER_REF_1' });
    await refundAll(client, 'REORDER_REF_1', 'R_EARLIER_01', merchant.url, 40);
    await h.clock.advance(5_000);
    await refundAll(client, 'REORDER_REF_1', 'R_LATER_0001', merchant.url, 40);
    await h.clock.advance(9_000);
    // The earlier refund ended at 10 s and is held; the later one ends at 15 s and goes first.
    expect(merchant.seen.map((s) => s.kind)).toEqual(['payment']);
    await h.clock.advance(1_000);
    const refunds = merchant.seen
      .filter((s) => s.kind === 'refund')
      .map((s) => verifyRefundNotification(s.body, { key: KEY }).outRefundNo);
    expect(refunds).toEqual(['R_LATER_0001', 'R_EARLIER_01']);
  });

  it('a held notification still goes out after params.seconds if no later event comes', async () => {
    const { h, merchant, openid } = await setup(() => ({ body: FAIL_REPLY }));
    await pay(h, merchant, openid, 'REORDER_LATE1', {
      'x-sim-fault': 'NOTIFY_OUT_OF_ORDER',
      'x-sim-fault-params': '{"seconds":100}',
    });
    await expectHeldFor(h, merchant, 100);
    const attempts = await h.attempts();
    expect(attempts.map((a) => [a.attempt, a.status, Date.parse(a.scheduled_at) - START_MS])).toEqual([
      [1, 'failed', 100_000],
      [2, 'scheduled', 115_000],
    ]);
  });
});
