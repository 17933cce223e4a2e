import type { Api } from './api.js';
import type { CheckoutOutcome } from './checkout.js';
import type { PaymentParams, WxPort } from './wx-port.js';

/** A purchase the result page may resume: pay again after a cancel, or check again. */
export interface Purchase {
  payment: PaymentParams;
  outcome: CheckoutOutcome;
}

/** What app.ts puts in globalData, for pages that call getApp<AppGlobals>(). */
export interface AppGlobals {
  /** `wx` itself, or the simulator-backed stand-in when config.ts names a simulator. */
  globalData: { wx: WxPort; api: Api; purchases: Map<string, Purchase> };
}
