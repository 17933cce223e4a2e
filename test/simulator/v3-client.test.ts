import { afterEach, describe, expect, it } from 'vitest';
import { WechatRejectedError } from '../../src/wechat/errors.js';
import { createV3KeyStore } from '../../src/wechat/v3/keys.js';
import { startV3Sim, type V3Harness } from './v3-harness.js';

/** weapp-pay's own v3 client against the simulator: every call, in both key models. */

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(mode: 'public-key' | 'certificate') {
  const h: V3Harness = await startV3Sim({ v3: { v3KeyMode: mode } });
  open.push(h);
  const published = await h.keys();
  const keys =
    mode === 'public-key'
      ? createV3KeyStore({ publicKey: { id: published.publicKeyId, pem: published.publicKeyPem } })
      : createV3KeyStore();
  const client = h.ourClient(keys, { timeoutMs: 3000 });
  open.push(client);
  return { h, client, published };
}

describe.each(['public-key', 'certificate'] as const)('createV3Client in %s mode', (mode) => {
  it('orders, queries, closes, refunds, queries the refund and downloads the bill', async () => {
    const { h, client, published } = await setup(mode);
    if (mode === 'certificate') {
      // The store starts empty: the client downloads and decrypts the platform certificates.
      const certs = await client.certificates();
      expect(certs.map((c) => c.serial)).toEqual([published.certificates[0]!.serial]);
    }
    const { openid } = await h.login();
    const input = { description: '咖啡', notifyUrl: 'https://m.example/notify', total: 100, openid };
    const { prepayId } = await client.jsapi({ ...input, outTradeNo: 'V3_CLIENT_0001' });
    expect(prepayId).toMatch(/^wx/);
    await client.jsapi({ ...input, outTradeNo: 'V3_CLIENT_0002' });
    await client.closeOrder('V3_CLIENT_0002');
    expect(await client.queryByOutTradeNo('V3_CLIENT_0002')).toMatchObject({ trade_state: 'CLOSED' });
    const paid = await h.pay(prepayId);
    const tx = await client.queryById(paid.body.transaction_id);
    expect(tx).toMatchObject({ out_trade_no: 'V3_CLIENT_0001', trade_state: 'SUCCESS' });
    const refund = await client.refund({
      outTradeNo: 'V3_CLIENT_0001',
      outRefundNo: 'V3_CLIENT_R01',
      refund: 30,
      total: 100,
    });
    expect(refund).toMatchObject({ status: 'PROCESSING', amount: { refund: 30 } });
    expect((await client.queryRefund('V3_CLIENT_R01')).refund_id).toBe(refund.refund_id);
    await expect(client.queryByOutTradeNo('V3_CLIENT_NONE')).rejects.toBeInstanceOf(WechatRejectedError);
    await h.clock.advance(24 * 3600_000);
    const bill = await client.tradeBill({ billDate: '2024-01-01' });
    expect(bill).toContain('`V3_CLIENT_0001');
  });
});
