/**
 * The slice of `wx` the payment flow uses, spelled out so the logic in lib/ can run anywhere:
 * on a phone with the real `wx`, and in Node tests with a fake wired to a running service and
 * simulator. tsconfig.json type-checks that the real `wx` (miniprogram-api-typings) fits it.
 */
export interface WxError {
  errMsg: string;
}

export interface WxRequestResult {
  statusCode: number;
  data: unknown;
  header: Record<string, string>;
  errMsg: string;
}

export interface WxRequestOptions {
  url: string;
  method?: 'GET' | 'POST';
  data?: Record<string, unknown>;
  header?: Record<string, string>;
  timeout?: number;
  success?: (res: WxRequestResult) => void;
  fail?: (err: WxError) => void;
}

/** Exactly what `POST /api/orders` returns as `payment`. */
export interface PaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'MD5' | 'HMAC-SHA256' | 'RSA';
  paySign: string;
}

export interface WxPort {
  login(options: {
    success?: (res: { code: string; errMsg: string }) => void;
    fail?: (err: WxError) => void;
  }): void;
  request(options: WxRequestOptions): unknown;
  requestPayment(
    options: PaymentParams & { success?: (res: WxError) => void; fail?: (err: WxError) => void },
  ): unknown;
}

/** WeChat's errMsg when the person closes the cashier without paying. */
export const PAYMENT_CANCELLED = 'requestPayment:fail cancel';
