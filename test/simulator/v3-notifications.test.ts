import { afterEach, describe, expect, it } from 'vitest';
import { decryptAeadAes256Gcm } from '../../src/wechat/v3/aead.js';
import { MCH_ID, orderInput, START_MS } from './harness.js';
import {
  API_V3_KEY,
  type ReceivedNotification,
  startV3Receiver,
  startV3Sim,
  type V3Harness,
} from './v3-harness.js';

/** v3 notifications: format, encryption, signature, retries on the v2 schedule, SIGN_PROBE. */

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(
  statusOf: Parameters<typeof startV3Receiver>[0],
  options: Parameters<typeof startV3Sim>[0] = {},
) {
  const h = await startV3Sim(options);
  const receiver = await startV3Receiver(statusOf);
  open.push(h, receiver);
  return { h, receiver };
}

function decrypt(n: ReceivedNotification) {
  const body = JSON.parse(n.text);
  const r = body.resource;
  const plain = decryptAeadAes256Gcm({
    key: API_V3_KEY,
    nonce: r.nonce,
    associatedData: r.associated_data,
    ciphertext: r.ciphertext,
  });
  if (!plain.ok) throw new Error('resource did not decrypt');
  return { body, resource: JSON.parse(plain.plaintext) };
}

async function paid(h: V3Harness, url: string, outTradeNo: string, headers = {}) {
  const { prepayId } = await h.order(outTradeNo, url);
  const res = await h.pay(prepayId, 'SUCCESS', headers);
  expect(res.status).toBe(200);
  await h.clock.settle();
  return res.body.transaction_id as string;
}

describe('payment notifications', () => {
  it('posts TRANSACTION.SUCCESS as signed JSON whose resource decrypts to the Transaction', async () => {
    const { h, receiver } = await setup(() => 204);
    const txid = await paid(h, '', 'V3_NOTIFY_0001').catch(() => '');
    expect(txid).toBe('');
    const transactionId = await paid(h, receiver.url, 'V3_NOTIFY_0002');
    expect(receiver.received).toHaveLength(1);
    const n = receiver.received[0]!;
    expect(n.headers['content-type']).toBe('application/json');
    expect(n.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(await h.verify(n)).toEqual({ ok: true, serial: (await h.keys()).publicKeyId });
    const { body, resource } = decrypt(n);
    expect(body).toMatchObject({
      create_time: '2024-01-01T12:05:30+08:00',
      event_type: 'TRANSACTION.SUCCESS',
      resource_type: 'encrypt-resource',
      summary: '支付成功',
      resource: {
        algorithm: 'AEAD_AES_256_GCM',
        associated_data: 'transaction',
        original_type: 'transaction',
      },
    });
    expect(body.resource.nonce).toMatch(/^[0-9A-Z]{12}$/);
    expect(resource).toMatchObject({
      mchid: MCH_ID,
      out_trade_no: 'V3_NOTIFY_0002',
      transaction_id: transactionId,
      trade_state: 'SUCCESS',
      amount: { total: 100, payer_total: 100 },
    });
    expect(await h.attempts('?out_trade_no=V3_NOTIFY_0002')).toMatchObject([
      { status: 'delivered', http_status: 204 },
    ]);
  });

  it('notifies an order made through v2 in v2 XML, to the same kind of receiver', async () => {
    const { h, receiver } = await setup(() => 200);
    const { openid } = await h.login();
    const { prepayId } = await h.client().unifiedOrder(orderInput('V2_NOTIFY_0001', openid, receiver.url));
    await h.pay(prepayId);
    await h.clock.settle();
    expect(receiver.received[0]!.text.startsWith('<xml>')).toBe(true);
    expect(receiver.received[0]!.headers['wechatpay-signature']).toBeUndefined();
  });

  it('retries on 500 on the v2 schedule with the same id, each attempt signed afresh, and stops on 200', async () => {
    const { h, receiver } = await setup((n) => (n < 3 ? 500 : 200));
    await paid(h, receiver.url, 'V3_RETRY_0001');
    await h.clock.advance(15_000);
    await h.clock.advance(15_000);
    await h.clock.advance(86_400_000);
    expect(receiver.received).toHaveLength(3);
    const ids = receiver.received.map((n) => JSON.parse(n.text).id);
    expect(new Set(ids).size).toBe(1);
    expect(receiver.received.map((n) => Number(n.headers['wechatpay-timestamp']) * 1000 - START_MS)).toEqual([
      0, 15_000, 30_000,
    ]);
    const attempts = await h.attempts('?out_trade_no=V3_RETRY_0001');
    expect(attempts.map((a) => [a.attempt, a.status, a.http_status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
  });

  it('counts a 204 as delivered and never sends again', async () => {
    const { h, receiver } = await setup(() => 204);
    await paid(h, receiver.url, 'V3_STOP_00001');
    await h.clock.advance(2 * 86_400_000);
    expect(receiver.received).toHaveLength(1);
  });

  it('signs notifications with the platform certificate in certificate mode, and alternately with both keys in both mode', async () => {
    const cert = await setup(() => 204, { v3: { v3KeyMode: 'certificate' } });
    await paid(cert.h, cert.receiver.url, 'V3_CERT_00001');
    const certSerial = (await cert.h.keys()).certificates[0]!.serial;
    expect(await cert.h.verify(cert.receiver.received[0]!)).toEqual({ ok: true, serial: certSerial });

    const both = await setup(() => 204, { v3: { v3KeyMode: 'both' } });
    await paid(both.h, both.receiver.url, 'V3_BOTH_00001');
    await paid(both.h, both.receiver.url, 'V3_BOTH_00002');
    const keys = await both.h.keys();
    const serials = [];
    for (const n of both.receiver.received) {
      const check = await both.h.verify(n);
      expect(check.ok).toBe(true);
      serials.push(check.ok ? check.serial : '');
    }
    expect(new Set(serials)).toEqual(new Set([keys.publicKeyId, keys.certificates[0]!.serial]));
  });
});

describe('SIGN_PROBE', () => {
  it('sends a WECHATPAY/SIGNTEST/ probe first, then the correctly signed notification', async () => {
    const { h, receiver } = await setup((_n, got) =>
      String(got.headers['wechatpay-signature']).startsWith('WECHATPAY/SIGNTEST/') ? 401 : 204,
    );
    await paid(h, receiver.url, 'V3_PROBE_0001', { 'x-sim-fault': 'SIGN_PROBE' });
    expect(receiver.received).toHaveLength(2);
    expect(await h.verify(receiver.received[0]!)).toEqual({ ok: false, reason: 'SIGN_PROBE' });
    expect(await h.verify(receiver.received[1]!)).toMatchObject({ ok: true });
    expect(JSON.parse(receiver.received[0]!.text).id).toBe(JSON.parse(receiver.received[1]!.text).id);
    const attempts = await h.attempts('?out_trade_no=V3_PROBE_0001');
    expect(attempts.map((a) => [a.probe === true, a.ok, a.http_status])).toEqual([
      [false, true, 204],
      [true, false, 401],
    ]);
    // Set with /sim/faults it probes the next notification only.
    await h.json('POST', '/sim/faults', { fault: 'SIGN_PROBE' });
    await paid(h, receiver.url, 'V3_PROBE_0002');
    await paid(h, receiver.url, 'V3_PROBE_0003');
    expect(receiver.received).toHaveLength(5);
  });
});

describe('refund notifications', () => {
  it.each([
    [undefined, 'REFUND.SUCCESS', 'SUCCESS'],
    ['REFUND_ABNORMAL', 'REFUND.ABNORMAL', 'ABNORMAL'],
    ['REFUND_CLOSED', 'REFUND.CLOSED', 'CLOSED'],
  ])('with fault %s: %s whose resource says %s', async (fault, eventType, status) => {
    const { h, receiver } = await setup(() => 200, { behaviour: { refundDelaySeconds: 60 } });
    await paid(h, receiver.url, 'V3_RFN_000001');
    if (fault) await h.json('POST', '/sim/faults', { fault, out_trade_no: 'V3_RFN_000001' });
    const res = await h.call('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'V3_RFN_000001',
      out_refund_no: 'V3_RFN_R0001',
      notify_url: receiver.url,
      amount: { refund: 100, total: 100, currency: 'CNY' },
    });
    expect(res.status).toBe(200);
    await h.clock.advance(60_000);
    expect(receiver.received).toHaveLength(2);
    const n = receiver.received[1]!;
    expect(await h.verify(n)).toMatchObject({ ok: true });
    const { body, resource } = decrypt(n);
    expect(body).toMatchObject({
      event_type: eventType,
      resource: { original_type: 'refund', associated_data: 'refund' },
    });
    expect(resource).toMatchObject({
      mchid: MCH_ID,
      out_trade_no: 'V3_RFN_000001',
      out_refund_no: 'V3_RFN_R0001',
      refund_id: res.body.refund_id,
      refund_status: status,
      amount: { total: 100, refund: 100 },
    });
    expect((await h.call('GET', '/v3/refund/domestic/refunds/V3_RFN_R0001')).body.status).toBe(status);
  });
});
