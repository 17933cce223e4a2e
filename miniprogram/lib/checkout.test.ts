import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, startBackend } from '../test/backend.js';
import { createFakeWx, type FakeWx } from '../test/fake-wx.js';
import { type Api, createApi, createMemoryTokenStore, type Product } from './api.js';
import { type CheckoutDeps, confirmPaid, newIdempotencyKey, payOrder } from './checkout.js';

// Real time passes here only while the simulator's notification travels over loopback HTTP;
// polling is short and bounded, and no test waits for protocol time.
const polling = { attempts: 40, intervalMs: 50 };

describe('mini program checkout against a running service and simulator', () => {
  let backend: Backend;
  let wx: FakeWx;
  let api: Api;
  let deps: CheckoutDeps;
  let product: Product;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.close();
  });
  beforeEach(async () => {
    await backend.clearFaults();
    wx = createFakeWx({ simulatorUrl: backend.demo.simulatorUrl, appid: backend.demo.appid });
    api = createApi({ wx, baseUrl: backend.demo.serviceUrl, tokens: createMemoryTokenStore() });
    deps = { wx, api, polling };
    [product] = (await api.products()) as [Product];
  });

  it('creates an order priced by the server with the five wx.requestPayment parameters', async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 2 }, newIdempotencyKey());
    expect(order).toMatchObject({
      sku: product.sku,
      quantity: 2,
      amount: product.price * 2,
      status: 'PENDING',
    });
    expect(Object.keys(payment).sort()).toEqual(['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
    expect(payment.timeStamp).toMatch(/^\d{10}$/);
    expect(payment.package).toMatch(/^prepay_id=\S+$/);
  });

  it('reports paid only after the service says PAID, with its transaction id', async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    const outcome = await payOrder(deps, order, payment);
    expect(outcome.kind).toBe('paid');
    expect(outcome.order.status).toBe('PAID');
    expect(outcome.order.transactionId).toMatch(/^\d{28}$/);
    expect(wx.calls.requestPayment).toBe(1);
  });

  it('leaves the order PENDING when the person cancels at the cashier', async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    wx.cashier = 'CANCEL';
    const outcome = await payOrder(deps, order, payment);
    expect(outcome).toMatchObject({ kind: 'cancelled', order: { id: order.id, status: 'PENDING' } });
  });

  it("reports a failed payment with WeChat's errMsg and leaves the order PENDING", async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    wx.cashier = 'FAIL';
    const outcome = await payOrder(deps, order, payment);
    expect(outcome.kind).toBe('failed');
    expect(outcome.order.status).toBe('PENDING');
    expect(outcome.kind === 'failed' && outcome.errMsg).toMatch(/^requestPayment:fail/);
    expect(outcome.kind === 'failed' && outcome.errMsg).not.toBe('requestPayment:fail cancel');
  });

  it('pays again after a cancel with the same parameters, and then the order is PAID', async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    wx.cashier = 'CANCEL';
    expect((await payOrder(deps, order, payment)).kind).toBe('cancelled');
    wx.cashier = 'SUCCESS';
    const outcome = await payOrder(deps, order, payment);
    expect(outcome).toMatchObject({ kind: 'paid', order: { status: 'PAID' } });
  });

  it('recovers a payment whose notification was dropped by calling /sync, which queries WeChat', async () => {
    await backend.setFault({ fault: 'NOTIFY_DROP' });
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    const outcome = await payOrder({ ...deps, polling: { attempts: 2, intervalMs: 20 } }, order, payment);
    expect(outcome).toMatchObject({ kind: 'paid', order: { status: 'PAID' } });
    expect(wx.calls.requests).toContain(`POST /api/orders/${order.id}/sync`);
    const types = (await backend.events(order.id)).map((e) => e.type);
    expect(types).toContain('queried');
    expect(types).not.toContain('notification_received');
  });

  it('never reports paid when the person cancelled and then taps "I paid, check"', async () => {
    const { order, payment } = await api.createOrder({ sku: product.sku, quantity: 1 }, newIdempotencyKey());
    wx.cashier = 'CANCEL';
    await payOrder(deps, order, payment);
    const outcome = await confirmPaid({ ...deps, polling: { attempts: 1, intervalMs: 10 } }, order.id);
    expect(outcome).toMatchObject({ kind: 'unconfirmed', order: { status: 'PENDING' } });
    expect((await backend.events(order.id)).map((e) => e.type)).toContain('queried');
  });
});
