import type { AppGlobals } from '../../lib/app-globals.js';
import { type CheckoutOutcome, confirmPaid, payOrder } from '../../lib/checkout.js';
import { type ResultView, resultView } from '../../lib/result-view.js';

const app = getApp<AppGlobals>();

Page({
  data: {
    orderId: '',
    outTradeNo: '',
    description: '',
    view: null as ResultView | null,
    busy: false,
  },

  onLoad(query: Record<string, string | undefined>) {
    const orderId = decodeURIComponent(query.id ?? '');
    const purchase = app.globalData.purchases.get(orderId);
    this.setData({ orderId });
    if (purchase) this.show(purchase.outcome);
    else this.onCheck();
  },

  show(outcome: CheckoutOutcome) {
    const purchase = app.globalData.purchases.get(outcome.order.id);
    if (purchase) purchase.outcome = outcome;
    this.setData({
      outTradeNo: outcome.order.outTradeNo,
      description: `${outcome.order.description} × ${outcome.order.quantity}`,
      view: resultView(outcome),
    });
  },

  /** Runs one action with the buttons disabled; errors become a modal, never a false result. */
  async run(action: () => Promise<CheckoutOutcome>) {
    if (this.data.busy) return;
    this.setData({ busy: true });
    try {
      this.show(await action());
    } catch (err) {
      wx.showModal({ title: '出错了', content: (err as Error).message, showCancel: false });
    } finally {
      this.setData({ busy: false });
    }
  },

  /** "我已支付，查询结果": the service queries WeChat; the phone's word is not enough. */
  onCheck() {
    return this.run(() => confirmPaid({ wx: app.globalData.wx, api: app.globalData.api }, this.data.orderId));
  },

  onPayAgain() {
    const purchase = app.globalData.purchases.get(this.data.orderId);
    if (!purchase) return;
    return this.run(() =>
      payOrder({ wx: app.globalData.wx, api: app.globalData.api }, purchase.outcome.order, purchase.payment),
    );
  },

  onClose() {
    return this.run(async () => ({
      kind: 'ended',
      order: await app.globalData.api.close(this.data.orderId),
    }));
  },

  onBack() {
    wx.navigateBack({ fail: () => wx.reLaunch({ url: '/pages/shop/shop' }) });
  },
});
