import { ApiError, type Product } from '../../lib/api.js';
import type { AppGlobals } from '../../lib/app-globals.js';
import { newIdempotencyKey, payOrder } from '../../lib/checkout.js';
import { formatFen } from '../../lib/money.js';

const app = getApp<AppGlobals>();
let unfinished: { sku: string; key: string } | null = null;

Page({
  data: {
    products: [] as Array<Product & { priceText: string }>,
    loading: true,
    error: '',
    buying: false,
  },

  onLoad() {
    this.loadProducts();
  },

  onPullDownRefresh() {
    this.loadProducts().then(() => wx.stopPullDownRefresh());
  },

  async loadProducts() {
    this.setData({ loading: true, error: '' });
    try {
      const products = await app.globalData.api.products();
      this.setData({ products: products.map((p) => ({ ...p, priceText: formatFen(p.price) })) });
    } catch (err) {
      this.setData({ error: `加载商品失败：${(err as Error).message}` });
    } finally {
      this.setData({ loading: false });
    }
  },

  async onBuy(e: WechatMiniprogram.TouchEvent) {
    if (this.data.buying) return;
    const sku = String(e.currentTarget.dataset.sku);
    this.setData({ buying: true });
    wx.showLoading({ title: '下单中', mask: true });
    // A tap that failed before the order came back is retried with the same key, so the
    // service finishes that order instead of opening a second one (PAYMENT_UNAVAILABLE says so).
    const key = unfinished?.sku === sku ? unfinished.key : newIdempotencyKey();
    unfinished = { sku, key };
    try {
      const { api, purchases } = app.globalData;
      const { order, payment } = await api.createOrder({ sku, quantity: 1 }, key);
      unfinished = null;
      wx.hideLoading();
      const outcome = await payOrder({ wx: app.globalData.wx, api }, order, payment);
      purchases.set(order.id, { payment, outcome });
      wx.navigateTo({ url: `/pages/result/result?id=${encodeURIComponent(order.id)}` });
    } catch (err) {
      wx.hideLoading();
      // Unknown or unfinished (no answer, in flight, WeChat unavailable): keep the key. Refused: forget it.
      if (err instanceof ApiError && ![0, 409, 500, 503].includes(err.status)) unfinished = null;
      wx.showModal({ title: '下单失败', content: (err as Error).message, showCancel: false });
    } finally {
      this.setData({ buying: false });
    }
  },
});
