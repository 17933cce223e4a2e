import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, startBackend } from '../test/backend.js';
import { createFakeWx } from '../test/fake-wx.js';
import { ApiError, createApi, createMemoryTokenStore } from './api.js';
import { newIdempotencyKey } from './checkout.js';

describe('mini program API client against a running service', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.close();
  });

  function client() {
    const wx = createFakeWx({ simulatorUrl: backend.demo.simulatorUrl, appid: backend.demo.appid });
    const tokens = createMemoryTokenStore();
    return { wx, tokens, api: createApi({ wx, baseUrl: backend.demo.serviceUrl, tokens }) };
  }

  it('logs in with wx.login on first use and keeps only the service token', async () => {
    const { wx, tokens, api } = client();
    const [product] = await api.products();
    await api.createOrder({ sku: product!.sku, quantity: 1 }, newIdempotencyKey());
    expect(wx.calls.login).toBe(1);
    expect(wx.calls.requests).toEqual(['POST /api/login', 'GET /api/products', 'POST /api/orders']);
    expect(tokens.get()).toEqual(expect.any(String));
  });

  it('logs in again and retries once when the session token has expired', async () => {
    const { wx, tokens, api } = client();
    const [product] = await api.products();
    const { order } = await api.createOrder({ sku: product!.sku, quantity: 1 }, newIdempotencyKey());
    tokens.set('expired-session-token');
    const again = await api.getOrder(order.id);
    expect(again.id).toBe(order.id);
    expect(wx.calls.login).toBe(2);
    expect(wx.calls.requests.filter((r) => r === `GET /api/orders/${order.id}`)).toHaveLength(2);
  });

  it('replays the same order and payment for a retried tap with the same Idempotency-Key', async () => {
    const { api } = client();
    const [product] = await api.products();
    const key = newIdempotencyKey();
    const first = await api.createOrder({ sku: product!.sku, quantity: 1 }, key);
    const second = await api.createOrder({ sku: product!.sku, quantity: 1 }, key);
    expect(second.order.id).toBe(first.order.id);
    expect(second.payment).toEqual(first.payment);
  });

  it("does not show another user's order: 404 ORDER_NOT_FOUND", async () => {
    const alice = client();
    const bob = client();
    const [product] = await alice.api.products();
    const { order } = await alice.api.createOrder({ sku: product!.sku, quantity: 1 }, newIdempotencyKey());
    const err = await bob.api.getOrder(order.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404 });
  });
});
