/**
 * The mini program's client for the weapp-pay service. It uses only `wx.login` and
 * `wx.request`. A 401 means the session expired (or was never there): it logs in again and
 * retries the call once, so a page never has to think about tokens.
 *
 * @example
 * const api = createApi({ wx, baseUrl: 'https://pay.example.com', tokens: createMemoryTokenStore() });
 * const { order, payment } = await api.createOrder({ sku: 'oolong-250g', quantity: 1 });
 */
import type { PaymentParams, WxPort, WxRequestResult } from './wx-port.js';

export type OrderStatus = 'PENDING' | 'PAID' | 'PARTIALLY_REFUNDED' | 'CLOSED' | 'REFUNDED' | 'REVIEW';

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'CLOSED';

/** One refund of a paid order, as `GET /api/orders/:id` lists it. */
export interface Refund {
  outRefundNo: string;
  /** Integer fen. */
  amount: number;
  status: RefundStatus;
  createdAt: string;
  settledAt: string | null;
}

export interface Product {
  sku: string;
  name: string;
  description: string;
  /** Integer fen. */
  price: number;
  currency: 'CNY';
}

export interface Order {
  id: string;
  outTradeNo: string;
  sku: string;
  quantity: number;
  description: string;
  /** Integer fen, priced by the server. */
  amount: number;
  currency: 'CNY';
  status: OrderStatus;
  createdAt: string;
  paidAt: string | null;
  expiresAt: string;
  transactionId: string | null;
  /**
   * Fen refunded or being refunded, and the refunds oldest first. Optional: a service without
   * refunds does not send them, and the page then shows none.
   */
  refundedAmount?: number;
  refunds?: Refund[];
}

/** Where the session token lives; on a phone, wx storage (see pages), so it survives restarts. */
export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST';

export interface ApiDeps {
  wx: WxPort;
  baseUrl: string;
  tokens: TokenStore;
}

export function createApi({ wx, baseUrl, tokens }: ApiDeps) {
  function call(
    method: Method,
    path: string,
    data?: Record<string, unknown>,
    header: Record<string, string> = {},
  ) {
    return new Promise<WxRequestResult>((resolve, reject) => {
      wx.request({
        url: `${baseUrl}${path}`,
        method,
        ...(data === undefined ? {} : { data }),
        header,
        success: resolve,
        fail: (err) => reject(new ApiError(0, 'NETWORK', err.errMsg)),
      });
    });
  }

  async function login(): Promise<void> {
    const code = await new Promise<string>((resolve, reject) => {
      wx.login({
        success: (res) => resolve(res.code),
        fail: (err) => reject(new ApiError(0, 'WX_LOGIN_FAILED', err.errMsg)),
      });
    });
    const res = await call('POST', '/api/login', { code });
    if (res.statusCode !== 200) throw toApiError(res);
    tokens.set((res.data as { token: string }).token);
  }

  async function authed<T>(method: Method, path: string, data?: Record<string, unknown>, header = {}) {
    if (tokens.get() === null) await login();
    const send = () => call(method, path, data, { ...header, Authorization: `Bearer ${tokens.get()}` });
    let res = await send();
    if (res.statusCode === 401) {
      tokens.set(null);
      await login();
      res = await send();
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw toApiError(res);
    return res.data as T;
  }

  const orderPath = (id: string) => `/api/orders/${encodeURIComponent(id)}`;

  return {
    login,
    // Every route but the notification needs a login, the catalogue included.
    products: async () => (await authed<{ products: Product[] }>('GET', '/api/products')).products,
    /** The key makes a retried tap safe: the service replays the first response. */
    createOrder(input: { sku: string; quantity: number }, idempotencyKey: string) {
      return authed<{ order: Order; payment: PaymentParams }>('POST', '/api/orders', input, {
        'Idempotency-Key': idempotencyKey,
      });
    },
    getOrder: async (id: string) => (await authed<{ order: Order }>('GET', orderPath(id))).order,
    sync: async (id: string) => (await authed<{ order: Order }>('POST', `${orderPath(id)}/sync`, {})).order,
    close: async (id: string) => (await authed<{ order: Order }>('POST', `${orderPath(id)}/close`, {})).order,
  };
}

export type Api = ReturnType<typeof createApi>;

export function createMemoryTokenStore(initial: string | null = null): TokenStore {
  let token = initial;
  return {
    get: () => token,
    set: (next) => {
      token = next;
    },
  };
}

function toApiError(res: WxRequestResult): ApiError {
  const body = (typeof res.data === 'object' && res.data !== null ? res.data : {}) as {
    code?: string;
    message?: string;
  };
  return new ApiError(
    res.statusCode,
    body.code ?? `HTTP_${res.statusCode}`,
    body.message ?? `HTTP ${res.statusCode}`,
    res.header['Retry-After'] ?? res.header['retry-after'],
  );
}
