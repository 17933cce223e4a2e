/**
 * For trying the mini program in WeChat DevTools against `npm start`'s simulator: a real
 * `wx.login` code means nothing to the simulator, and a real `wx.requestPayment` needs a real
 * merchant. This wraps `wx` so that login codes come from the simulator's `POST /sim/login`
 * and the cashier is a modal whose answer goes to `POST /sim/pay` (which checks the paySign
 * the service made). `wx.request` is untouched. Enabled only when config.ts names a simulator.
 *
 * @example
 * const port = config.simulatorUrl ? createSimulatedWx(wx, config.simulatorUrl) : wx;
 */
import type { PaymentParams, WxError, WxPort, WxRequestResult } from './wx-port.js';

export interface WxWithModal extends WxPort {
  showModal(options: {
    title: string;
    content: string;
    confirmText?: string;
    cancelText?: string;
    success?: (res: { confirm: boolean; cancel: boolean }) => void;
    fail?: (err: WxError) => void;
  }): unknown;
}

export function createSimulatedWx(wx: WxWithModal, simulatorUrl: string): WxPort {
  let openid: string | undefined;
  function simPost(path: string, data: Record<string, unknown>): Promise<WxRequestResult> {
    return new Promise((resolve, reject) => {
      wx.request({ url: `${simulatorUrl}${path}`, method: 'POST', data, success: resolve, fail: reject });
    });
  }

  return {
    request: (options) => wx.request(options),
    login({ success, fail }) {
      // Later logins keep the same simulated WeChat user, as a real phone does.
      simPost('/sim/login', openid ? { openid } : {}).then(
        (res) => {
          const body = res.data as { code?: unknown; openid?: unknown };
          if (res.statusCode !== 200 || typeof body.code !== 'string') {
            fail?.({ errMsg: `login:fail simulator answered ${res.statusCode}` });
            return;
          }
          if (typeof body.openid === 'string') openid = body.openid;
          success?.({ code: body.code, errMsg: 'login:ok' });
        },
        (err: WxError) => fail?.({ errMsg: `login:fail ${err.errMsg}` }),
      );
    },
    requestPayment(options: PaymentParams & { success?: (r: WxError) => void; fail?: (e: WxError) => void }) {
      const { success, fail, ...payment } = options;
      const prepayId = payment.package.replace(/^prepay_id=/, '');
      const pay = (result: 'SUCCESS' | 'CANCEL') =>
        simPost('/sim/pay', { prepay_id: prepayId, result, payment }).then(
          (res) => {
            if (res.statusCode >= 300) {
              const body = res.data as { message?: string; error?: string };
              const msg = body.message ?? body.error ?? res.statusCode;
              fail?.({ errMsg: `requestPayment:fail ${msg}` });
            } else if (result === 'SUCCESS') success?.({ errMsg: 'requestPayment:ok' });
            else fail?.({ errMsg: 'requestPayment:fail cancel' });
          },
          (err: WxError) => fail?.({ errMsg: `requestPayment:fail ${err.errMsg}` }),
        );
      wx.showModal({
        title: '微信支付（模拟器）',
        content: `确认支付订单 ${prepayId}？`,
        confirmText: '确认支付',
        cancelText: '取消',
        success: (res) => pay(res.confirm ? 'SUCCESS' : 'CANCEL'),
        fail: () => pay('CANCEL'),
      });
    },
  };
}
