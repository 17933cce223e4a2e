import type { Product } from '../../lib/api.js';
import type { AppGlobals } from '../../lib/app-globals.js';
import { newIdempotencyKey, payOrder } from '../../lib/checkout.js';
import { formatFen } from '../../lib/money.js';

const app = getApp<AppGlobals>();

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
    try {
      const { api, purchases } = app.globalData;
      // One key per tap: if this request is retried, the service replays the same order.
      const { order, payment } = await api.createOrder({ sku, quantity: 1 }, newIdempotencyKey());
      wx.hideLoading();
      const outcome = await payOrder({ wx: app.globalData.wx, api }, order, payment);
      purchases.set(order.id, { payment, outcome });
      wx.navigateTo({ url: `/pages/result/result?id=${encodeURIComponent(order.id)}` });
    } catch (err) {
      wx.hideLoading();
      wx.showModal({ title: '下单失败', content: (err as Error).message, showCancel: false });
    } finally {
      this.setData({ buying: false });
    }
  },
});
