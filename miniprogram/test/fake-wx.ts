/**
 * A `wx` for Node tests, wired to a running service and simulator: `login` asks the simulator
 * for a code (as the WeChat client would), `request` is a real HTTP call, and `requestPayment`
 * plays the person at the cashier through the simulator's `POST /sim/pay`, which verifies the
 * paySign the service produced. Nothing here decides an outcome the backend did not.
 */
import type { PaymentParams, WxError, WxPort, WxRequestOptions } from '../lib/wx-port.js';

export type CashierChoice = 'SUCCESS' | 'CANCEL' | 'FAIL';

export interface FakeWx extends WxPort {
  /**
   * What the person does at the next cashier sheet: a choice made in advance, or a function
   * that decides while the sheet is open (page tests look at the page meanwhile).
   */
  cashier: CashierChoice | (() => Promise<CashierChoice>);
  readonly calls: { login: number; requestPayment: number; requests: string[] };
}

export function createFakeWx(opts: { simulatorUrl: string; appid: string }): FakeWx {
  const calls = { login: 0, requestPayment: 0, requests: [] as string[] };
  let openid: string | undefined;

  async function postJson(url: string, body: unknown) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch {
      data = { message: text.slice(0, 200) };
    }
    return { ok: res.ok, status: res.status, data };
  }

  const wx: FakeWx = {
    cashier: 'SUCCESS',
    calls,
    login({ success, fail }) {
      calls.login++;
      // The same person logs in again as the same WeChat user (same openid).
      postJson(`${opts.simulatorUrl}/sim/login`, { appid: opts.appid, ...(openid ? { openid } : {}) }).then(
        (res) => {
          if (!res.ok || typeof res.data.code !== 'string') {
            return fail?.({
              errMsg: `login:fail ${String(res.data.message ?? res.data.error ?? res.status)}`,
            });
          }
          if (typeof res.data.openid === 'string') openid = res.data.openid;
          return success?.({ code: res.data.code, errMsg: 'login:ok' });
        },
        (err: Error) => fail?.({ errMsg: `login:fail ${err.message}` }),
      );
    },
    request(options: WxRequestOptions) {
      const method = options.method ?? 'GET';
      calls.requests.push(`${method} ${new URL(options.url).pathname}`);
      const headers: Record<string, string> = { ...options.header };
      if (options.data !== undefined) headers['content-type'] = 'application/json';
      fetch(options.url, {
        method,
        headers,
        ...(options.data === undefined ? {} : { body: JSON.stringify(options.data) }),
      }).then(
        async (res) => {
          const text = await res.text();
          let data: unknown = text;
          try {
            data = JSON.parse(text);
          } catch {}
          const header = Object.fromEntries(res.headers.entries());
          options.success?.({ statusCode: res.status, data, header, errMsg: 'request:ok' });
        },
        (err: Error) => options.fail?.({ errMsg: `request:fail ${err.message}` }),
      );
      return undefined;
    },
    requestPayment(options: PaymentParams & { success?: (r: WxError) => void; fail?: (e: WxError) => void }) {
      calls.requestPayment++;
      const { success, fail, ...payment } = options;
      const prepayId = payment.package.replace(/^prepay_id=/, '');
      const decide = wx.cashier;
      const decision = typeof decide === 'function' ? decide() : Promise.resolve(decide);
      decision
        .then(async (result) => {
          const res = await postJson(`${opts.simulatorUrl}/sim/pay`, {
            prepay_id: prepayId,
            result,
            appId: opts.appid,
            payment,
          });
          return { res, result };
        })
        .then(
          ({ res, result }) => {
            if (!res.ok)
              return fail?.({
                errMsg: `requestPayment:fail ${String(res.data.message ?? res.data.error ?? res.status)}`,
              });
            if (result === 'SUCCESS') return success?.({ errMsg: 'requestPayment:ok' });
            if (result === 'CANCEL') return fail?.({ errMsg: 'requestPayment:fail cancel' });
            const errMsg = typeof res.data.errMsg === 'string' ? res.data.errMsg : 'requestPayment:fail';
            return fail?.({ errMsg });
          },
          (err: Error) => fail?.({ errMsg: `requestPayment:fail ${err.message}` }),
        );
    },
  };
  return wx;
}
