/**
 * The shop's client for the weapp-pay service, written as a mini program would write it: only
 * `wx.login` and `wx.request`. The session token lives in memory; a 401 means it expired, so
 * the client logs in again and retries the call once.
 *
 * `trace` receives what the "behind the scenes" panel shows. It never receives the token.
 *
 * @example
 * const api = createServiceApi({ wx, baseUrl: location.origin, trace: console.log });
 * const { order, payment } = await api.createOrder({ sku: 'tea', quantity: 1 });
 */
export function createServiceApi({ wx, baseUrl, trace = () => {} }) {
  let token = null;

  function call(method, path, { data, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
      wx.request({
        url: `${baseUrl}${path}`,
        method,
        data,
        header: headers,
        success: (res) => resolve(res),
        fail: (err) => reject(new ServiceError(0, 'NETWORK', err.errMsg)),
      });
    });
  }

  async function login() {
    const { code } = await wx.login();
    const res = await call('POST', '/api/login', { data: { code } });
    if (res.statusCode !== 200) throw errorFrom(res);
    token = res.data.token;
    trace({ kind: 'login', status: res.statusCode, expiresIn: res.data.expiresIn });
    return { expiresIn: res.data.expiresIn };
  }

  async function authed(method, path, options = {}) {
    if (token === null) await login();
    const send = () =>
      call(method, path, { ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } });
    let res = await send();
    if (res.statusCode === 401) {
      trace({ kind: 'relogin', path });
      token = null;
      await login();
      res = await send();
    }
    if (res.statusCode >= 400) throw errorFrom(res);
    return res.data;
  }

  return {
    login,
    // Every route but the notification needs a login, the catalogue included.
    products: () => authed('GET', '/api/products').then((r) => r.products),
    createOrder({ sku, quantity }, idempotencyKey = newIdempotencyKey()) {
      return authed('POST', '/api/orders', {
        data: { sku, quantity },
        headers: { 'idempotency-key': idempotencyKey },
      });
    },
    getOrder: (id) => authed('GET', `/api/orders/${encodeURIComponent(id)}`).then((r) => r.order),
    events: (id) => authed('GET', `/api/orders/${encodeURIComponent(id)}/events`).then((r) => r.events),
    sync: (id) =>
      authed('POST', `/api/orders/${encodeURIComponent(id)}/sync`, { data: {} }).then((r) => r.order),
    close: (id) =>
      authed('POST', `/api/orders/${encodeURIComponent(id)}/close`, { data: {} }).then((r) => r.order),
    /** Forgets the token, as an expired session would; the next call logs in again. */
    expireSession() {
      token = 'expired-session-token';
    },
  };
}

export class ServiceError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function errorFrom(res) {
  const body = typeof res.data === 'object' && res.data !== null ? res.data : {};
  return new ServiceError(
    res.statusCode,
    body.code ?? `HTTP_${res.statusCode}`,
    body.message ?? String(res.data).slice(0, 200),
    res.header?.['retry-after'],
  );
}

// getRandomValues works on plain-http origins too, where randomUUID is not offered.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
