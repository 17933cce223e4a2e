import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../lib/api.js';
import { type Backend, startBackend } from '../test/backend.js';
import type { CashierChoice } from '../test/fake-wx.js';
import { launchMiniProgram, type MiniProgram } from '../test/mini-program.js';
import type { RenderedPage } from '../test/rendered-page.js';

// The pages' own WXML, compiled by WeChat's wcc and rendered with their own logic, against a real
// service and simulator. Each test is what a person sees and taps; the database is the referee.
describe('mini program pages as WeChat renders them', () => {
  let backend: Backend;
  let mp: MiniProgram;
  let catalogue: Array<{ sku: string; name: string; price: number }>;

  beforeAll(async () => {
    backend = await startBackend();
    mp = await launchMiniProgram(backend.demo);
    catalogue = await mp.app.globalData.api.products();
  });
  afterAll(async () => {
    mp?.close();
    await backend?.close();
  });

  /** A fresh shop page, as when the person opens the mini program. */
  async function openShop(): Promise<RenderedPage> {
    mp.wx.cashier = 'SUCCESS';
    const shop = mp.open('/pages/shop/shop');
    await shop.waitForText('立即购买');
    return shop;
  }

  /** Taps "立即购买" and returns the cashier sheet, open and waiting for the person. */
  async function buy(shop: RenderedPage, sku: string) {
    const sheet = mp.wx.nextCashier();
    shop.tap(`buy-${sku}`, '立即购买');
    return sheet;
  }

  async function resultPage(shop: RenderedPage): Promise<RenderedPage> {
    await shop.waitFor(() => mp.current() !== shop, 'the result page');
    return mp.current();
  }

  /** Opens the shop, buys, answers the cashier, and waits for the result page to say `shows`. */
  async function purchase(sku: string, choice: CashierChoice, shows: string): Promise<RenderedPage> {
    const shop = await openShop();
    (await buy(shop, sku)).choose(choice);
    const result = await resultPage(shop);
    await result.waitForText(shows);
    return result;
  }

  async function orderRow(page: RenderedPage) {
    const id = (page.comp.instance.data as { orderId: string }).orderId;
    return backend.demo.database.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
  const labels = (page: RenderedPage) => page.buttons().map((b) => b.label);

  it('lists the catalogue with each name and its price in yuan, one 立即购买 per product', async () => {
    const shop = await openShop();
    expect(catalogue.length).toBeGreaterThan(1);
    for (const product of catalogue) {
      expect(shop.text()).toContain(product.name);
      expect(shop.text()).toContain(yuan(product.price));
    }
    expect(shop.buttons()).toEqual(
      catalogue.map((p) => ({ id: `buy-${p.sku}`, label: '立即购买', disabled: false })),
    );
  });

  it('disables every 立即购买 while the payment runs, then shows 支付成功 with the amount and transaction number', async () => {
    const shop = await openShop();
    const product = catalogue[0]!;
    const cashier = await buy(shop, product.sku);
    // The cashier is open: the order exists, and a second tap must not start another one.
    expect(shop.buttons().every((b) => b.disabled)).toBe(true);
    cashier.choose('SUCCESS');

    const result = await resultPage(shop);
    await result.waitForText('支付成功');
    const row = await orderRow(result);
    expect(row).toMatchObject({ status: 'PAID', sku: product.sku, amount: product.price });
    expect(result.text()).toContain(`微信支付单号 ${row.transaction_id}`);
    expect(result.text()).toContain(`商户订单号${row.out_trade_no}`);
    expect(result.text()).toContain(`金额${yuan(product.price)}`);
    expect(result.text()).toContain('服务端订单状态已支付');
    expect(labels(result)).toEqual(['返回商店']);
    expect(shop.buttons().some((b) => b.disabled)).toBe(false);

    result.tap('back', '返回商店');
    await result.waitFor(() => mp.current() === shop, 'the shop again');
  });

  it('shows 已取消支付 after a cancel, keeps the order pending, and 继续支付 pays it', async () => {
    const result = await purchase(catalogue[1]!.sku, 'CANCEL', '已取消支付');
    expect(result.text()).toContain('服务端订单状态待支付');
    expect(result.text()).not.toContain('支付成功');
    expect(labels(result)).toEqual(['继续支付', '关闭订单', '返回商店']);
    expect((await orderRow(result)).status).toBe('PENDING');

    const again = mp.wx.nextCashier();
    result.tap('pay-again', '继续支付');
    const cashier = await again;
    // While the cashier is open again, the page's own buttons wait.
    expect(
      result
        .buttons()
        .filter((b) => b.id !== 'back')
        .every((b) => b.disabled),
    ).toBe(true);
    cashier.choose('SUCCESS');
    await result.waitForText('支付成功');
    expect((await orderRow(result)).status).toBe('PAID');
  });

  it("shows 支付失败 with WeChat's errMsg, and 关闭订单 closes the order", async () => {
    const result = await purchase(catalogue[0]!.sku, 'FAIL', '支付失败');
    expect(result.text()).toMatch(/requestPayment:fail \S/);
    expect(result.text()).not.toContain('requestPayment:fail cancel');
    expect((await orderRow(result)).status).toBe('PENDING');

    result.tap('close', '关闭订单');
    await result.waitForText('订单已关闭');
    expect(result.text()).toContain('服务端订单状态已关闭');
    expect(labels(result)).toEqual(['返回商店']);
    expect((await orderRow(result)).status).toBe('CLOSED');
  });

  it('shows 订单已关闭, never 支付成功, when the order was closed behind the page and the person pays again', async () => {
    const result = await purchase(catalogue[0]!.sku, 'CANCEL', '已取消支付');
    // Closed elsewhere, as the reconciler closes an order whose time ran out.
    const { orderId } = result.comp.instance.data as { orderId: string };
    await mp.app.globalData.api.close(orderId);

    result.tap('pay-again', '继续支付');
    await result.waitForText('订单已关闭');
    expect(result.text()).not.toContain('支付成功');
    expect((await orderRow(result)).status).toBe('CLOSED');
  });

  it('shows a refund made through the admin route when the order is opened again', async () => {
    const product = catalogue[3]!;
    const paid = await purchase(product.sku, 'SUCCESS', '支付成功');
    const { orderId } = paid.comp.instance.data as { orderId: string };
    const half = Math.floor(product.price / 2);
    const res = await fetch(`${backend.demo.serviceUrl}/admin/orders/${orderId}/refunds`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${backend.demo.adminToken}`,
        'content-type': 'application/json',
        'idempotency-key': `refund-${orderId}`,
      },
      body: JSON.stringify({ amount: half, reason: '页面测试' }),
    });
    expect(res.status).toBeLessThan(300);
    // Opened afresh (as from the order list after a restart): the page asks the service.
    mp.app.globalData.purchases.delete(orderId);
    const reopened = mp.open(`/pages/result/result?id=${encodeURIComponent(orderId)}`);
    await reopened.waitForText('已退款');
    const [refund] = await backend.demo.database.db
      .selectFrom('refunds')
      .selectAll()
      .where('order_id', '=', orderId)
      .execute();
    const words: Record<string, string> = { PROCESSING: '退款处理中', SUCCESS: '退款成功' };
    expect(reopened.text()).toContain(`已退款${yuan(half)}`);
    expect(reopened.text()).toContain(`退款 ${yuan(half)}${words[refund!.status]}`);
  });

  it('lists a refund in words: the refunded amount and each refund with its state', async () => {
    // A fully refunded order, in the shape GET /api/orders/:id gives, through the page's own
    // show(): the REFUNDED wording without waiting for WeChat to settle a refund.
    const product = catalogue[2]!;
    const result = await purchase(product.sku, 'SUCCESS', '支付成功');
    expect(result.text()).not.toContain('已退款');

    const { orderId } = result.comp.instance.data as { orderId: string };
    const paid = await mp.app.globalData.api.getOrder(orderId);
    const refunded: Order = {
      ...paid,
      status: 'REFUNDED',
      refundedAmount: paid.amount,
      refunds: [
        {
          outRefundNo: 'R1',
          amount: paid.amount,
          status: 'SUCCESS',
          createdAt: '2026-12-02T05:00:00.000Z',
          settledAt: '2026-12-02T05:00:03.000Z',
        },
      ],
    };
    (result.comp.instance as unknown as { show(o: unknown): void }).show({ kind: 'ended', order: refunded });
    await result.waitForText('订单已退款');
    expect(result.text()).toContain(`已退款${yuan(paid.amount)}`);
    expect(result.text()).toContain(`退款 ${yuan(paid.amount)}退款成功`);
    expect(result.text()).toContain('服务端订单状态已退款');
    expect(result.text()).not.toContain('支付成功');
  });
});
