/**
 * A small stand-in for the three `wx` APIs a paying mini program uses, so the demo page runs
 * the same flow as a real one. It keeps WeChat's shapes on purpose:
 *
 * - `wx.login` → `{ code, errMsg: 'login:ok' }`; the code comes from the simulator's `/sim/login`,
 *   which plays the WeChat client. (The openid the simulator reveals is only passed to `observe`,
 *   for the "behind the scenes" panel: a real client never sees it.)
 * - `wx.request` is callback-only and calls `success` for every HTTP status, as WeChat does;
 *   `fail` means no response at all (`request:fail …`).
 * - `wx.requestPayment` opens the simulator's cashier in an overlay; the person confirms or
 *   cancels there, and the result comes back as `requestPayment:ok`, `requestPayment:fail cancel`
 *   or `requestPayment:fail …`.
 *
 * `login` and `requestPayment` return a Promise when no success/fail/complete callback is given,
 * like the real base library.
 *
 * @example
 * const wx = createWx({ simulatorUrl: 'http://127.0.0.1:3100', appid: 'wx…', mount: phoneEl });
 * const { code } = await wx.login();
 * await wx.requestPayment(payment); // rejects with { errMsg: 'requestPayment:fail cancel' }
 */
export function createWx({
  simulatorUrl,
  appid,
  mount,
  observe = () => {},
  fetchImpl = fetch,
  lang = () => 'zh',
}) {
  const simOrigin = new URL(simulatorUrl).origin;

  // One phone, one WeChat user: later logins ask the simulator for the same openid, as
  // wx.login on a real phone keeps the same user.
  let openid;

  async function login() {
    let res;
    try {
      res = await fetchImpl(`${simOrigin}/sim/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(openid ? { appid, openid } : { appid }),
      });
    } catch (err) {
      throw { errMsg: `login:fail ${err.message}` };
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok || typeof body.code !== 'string') {
      throw { errMsg: `login:fail ${body.message ?? body.error ?? `HTTP ${res.status}`}` };
    }
    openid = body.openid;
    observe({ api: 'login', code: body.code, openid: body.openid });
    return { code: body.code, errMsg: 'login:ok' };
  }

  function request(options) {
    const controller = new AbortController();
    const method = (options.method ?? 'GET').toUpperCase();
    let url = options.url;
    const headers = { ...(options.header ?? {}) };
    let body;
    if (options.data !== undefined && method === 'GET') {
      const query = new URLSearchParams(options.data).toString();
      if (query) url += (url.includes('?') ? '&' : '?') + query;
    } else if (options.data !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.data === 'string' ? options.data : JSON.stringify(options.data);
    }
    fetchImpl(url, { method, headers, body, signal: controller.signal })
      .then(async (res) => {
        const text = await res.text();
        const header = Object.fromEntries(res.headers.entries());
        const data = options.dataType === 'text' ? text : parseJsonOrText(text);
        const result = { statusCode: res.status, data, header, errMsg: 'request:ok' };
        options.success?.(result);
        options.complete?.(result);
      })
      .catch((err) => {
        const result = { errMsg: `request:fail ${err.name === 'AbortError' ? 'abort' : err.message}` };
        options.fail?.(result);
        options.complete?.(result);
      });
    return { abort: () => controller.abort() };
  }

  function requestPayment(params) {
    const prepayId = String(params.package ?? '').replace(/^prepay_id=/, '');
    const missing = ['timeStamp', 'nonceStr', 'package', 'paySign'].filter((k) => !params[k]);
    if (missing.length > 0 || !String(params.package).startsWith('prepay_id=')) {
      return Promise.reject({
        errMsg: `requestPayment:fail parameter error: ${missing.join(', ') || 'package'}`,
      });
    }
    const query = new URLSearchParams({
      prepay_id: prepayId,
      appId: appid,
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: params.signType ?? 'MD5',
      paySign: params.paySign,
      // The simulated cashier speaks the page's language, as WeChat follows the phone's.
      lang: lang(),
    });
    return new Promise((resolve, reject) => {
      const overlay = openCashier(mount, `${simOrigin}/sim/cashier?${query}`);
      function onMessage(event) {
        const msg = event.data;
        if (event.origin !== simOrigin || msg?.type !== 'weapp-pay-sim:payment') return;
        if (msg.prepay_id !== prepayId) return;
        finish(msg);
      }
      let done = false;
      function finish(msg) {
        if (done) return;
        done = true;
        window.removeEventListener('message', onMessage);
        overlay.remove();
        observe({ api: 'requestPayment', result: msg.result, prepayId });
        if (msg.result === 'SUCCESS') resolve({ errMsg: 'requestPayment:ok' });
        else if (msg.result === 'CANCEL') reject({ errMsg: 'requestPayment:fail cancel' });
        else reject({ errMsg: paymentFailMessage(msg.errMsg) });
      }
      window.addEventListener('message', onMessage);
    });
  }

  return {
    login: promisable(login),
    request,
    requestPayment: promisable(requestPayment),
  };
}

/**
 * The simulator's cashier page draws its own dimmed backdrop and bottom sheet (取消 included),
 * so the shim only lays a transparent frame over the phone screen, as WeChat's native sheet
 * covers the mini program.
 */
function openCashier(mount, src) {
  const frame = document.createElement('iframe');
  frame.id = 'cashier-frame';
  frame.className = 'cashier-frame';
  frame.dataset.testid = 'cashier-overlay';
  frame.title = 'WeChat Pay cashier (simulator)';
  frame.src = src;
  mount.append(frame);
  return frame;
}

function paymentFailMessage(errMsg) {
  return typeof errMsg === 'string' && errMsg.startsWith('requestPayment:fail')
    ? errMsg
    : 'requestPayment:fail';
}

function parseJsonOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * WeChat's convention: with any of success/fail/complete the call reports through them;
 * without, it returns a Promise.
 */
function promisable(fn) {
  return (options = {}) => {
    const { success, fail, complete, ...args } = options;
    const promise = fn(args);
    if (!success && !fail && !complete) return promise;
    promise.then(
      (res) => {
        success?.(res);
        complete?.(res);
      },
      (err) => {
        fail?.(err);
        complete?.(err);
      },
    );
    return undefined;
  };
}
