import type { V2SignType } from '../wechat/v2/sign.js';
import type { MerchantConfig } from './config.js';
import type { FaultRule } from './faults.js';

/** WeChat's `trade_state` values a mini program order can take (《查询订单》). */
export type TradeState = 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'REFUND' | 'CLOSED' | 'PAYERROR';

/** v2 `refund_status`. */
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';

export interface SimRefund {
  mchId: string;
  outTradeNo: string;
  outRefundNo: string;
  refundId: string;
  totalFee: number;
  refundFee: number;
  /** Cash part of the refund: a coupon order refunds cash in proportion. */
  cashRefundFee: number;
  status: RefundStatus;
  refundAccount: string;
  refundDesc: string | undefined;
  notifyUrl: string | undefined;
  createdAt: number;
  successAt: number | undefined;
  /** The API the refund was asked through: its notification is sent in that version's format. */
  api?: 'v3';
}

export interface SimOrder {
  mchId: string;
  appid: string;
  outTradeNo: string;
  /** Every request field but nonce_str, sign and time_expire: re-entry must match it exactly. */
  params: Readonly<Record<string, string>>;
  signType: V2SignType;
  body: string;
  totalFee: number;
  openid: string | undefined;
  tradeType: string;
  notifyUrl: string;
  attach: string | undefined;
  deviceInfo: string | undefined;
  state: TradeState;
  createdAt: number;
  timeExpire: number | undefined;
  prepayId: string;
  prepayIssuedAt: number;
  transactionId: string | undefined;
  timeEnd: number | undefined;
  cashFee: number | undefined;
  couponFee: number;
  bankType: string;
  refunds: SimRefund[];
  /** The API the order was created through: its notification is sent in that version's format. */
  api?: 'v3';
}

export interface LoginCode {
  appid: string;
  openid: string;
  /** Only for an app bound to an Open Platform account. */
  unionid: string | undefined;
  /** /sim/login `high_risk`: code2Session answers 40226. */
  highRisk: boolean;
  issuedAt: number;
  used: boolean;
}

export interface NotificationAttempt {
  id: string;
  kind: 'payment' | 'refund';
  mch_id: string;
  out_trade_no: string;
  out_refund_no?: string;
  attempt: number;
  /** 1 unless NOTIFY_DUPLICATE sent several concurrent copies of this attempt. */
  copy: number;
  scheduled_at: string;
  sent_at: string | null;
  url: string;
  /**
   * scheduled (its time has not come) → queued (its time has come, but another attempt of the
   * same order is in flight) → sending → delivered | failed | dropped.
   */
  status: 'scheduled' | 'queued' | 'sending' | 'delivered' | 'failed' | 'dropped';
  http_status: number | null;
  /** First 512 characters of the merchant's reply. */
  reply: string | null;
  ok: boolean;
  error?: string;
  /** v3 SIGN_PROBE: this request carried a `WECHATPAY/SIGNTEST/` signature and never counts. */
  probe?: boolean;
  /** v3: the `Wechatpay-*` headers sent and the resource before encryption (what the merchant decrypts). */
  v3?: { headers: Record<string, string>; resource: object | undefined };
}

export interface PrepayRef {
  mchId: string;
  outTradeNo: string;
  issuedAt: number;
}

const key = (mchId: string, id: string): string => `${mchId}\u0000${id}`;

/** Everything the simulator remembers. Plain maps: one process, reset by POST /sim/reset. */
export interface SimState {
  readonly merchants: ReadonlyMap<string, MerchantConfig>;
  /** appid → owning merchant and secret. */
  readonly apps: ReadonlyMap<string, { mchId: string; secret: string; openPlatform?: string }>;
  /** openid → the appid it was issued for by /sim/login. */
  readonly openids: Map<string, string>;
  readonly codes: Map<string, LoginCode>;
  /** openid → the unionid code2Session answers for it. */
  readonly unionids: Map<string, string>;
  readonly prepays: Map<string, PrepayRef>;
  readonly notifications: NotificationAttempt[];
  readonly faults: FaultRule[];
  /** code2Session calls per openid: timestamps of the last minute. */
  readonly loginCalls: Map<string, number[]>;
  order(mchId: string, outTradeNo: string): SimOrder | undefined;
  orderByTransaction(mchId: string, transactionId: string): SimOrder | undefined;
  putOrder(order: SimOrder): void;
  orders(mchId?: string): SimOrder[];
  refund(mchId: string, outRefundNo: string): SimRefund | undefined;
  refundById(mchId: string, refundId: string): SimRefund | undefined;
  putRefund(refund: SimRefund): void;
  /** A number that grows for the process lifetime; ids stay unique across resets. */
  nextSerial(): number;
  reset(): void;
}

export function createSimState(merchants: readonly MerchantConfig[]): SimState {
  const merchantMap = new Map(merchants.map((m) => [m.mchId, m]));
  const apps = new Map<string, { mchId: string; secret: string; openPlatform?: string }>();
  for (const m of merchants)
    for (const a of m.appids)
      apps.set(a.appid, { mchId: m.mchId, secret: a.secret, openPlatform: a.openPlatform });
  const orders = new Map<string, SimOrder>();
  const transactions = new Map<string, SimOrder>();
  const refunds = new Map<string, SimRefund>();
  const refundIds = new Map<string, SimRefund>();
  let serial = 0;
  const state: SimState = {
    merchants: merchantMap,
    apps,
    openids: new Map(),
    codes: new Map(),
    unionids: new Map(),
    prepays: new Map(),
    notifications: [],
    faults: [],
    loginCalls: new Map(),
    order: (mchId, outTradeNo) => orders.get(key(mchId, outTradeNo)),
    orderByTransaction: (mchId, transactionId) => {
      const o = transactions.get(transactionId);
      return o?.mchId === mchId ? o : undefined;
    },
    putOrder(order) {
      orders.set(key(order.mchId, order.outTradeNo), order);
      if (order.transactionId) transactions.set(order.transactionId, order);
    },
    orders: (mchId) => [...orders.values()].filter((o) => mchId === undefined || o.mchId === mchId),
    refund: (mchId, outRefundNo) => refunds.get(key(mchId, outRefundNo)),
    refundById: (mchId, refundId) => {
      const r = refundIds.get(refundId);
      return r?.mchId === mchId ? r : undefined;
    },
    putRefund(refund) {
      refunds.set(key(refund.mchId, refund.outRefundNo), refund);
      refundIds.set(refund.refundId, refund);
    },
    nextSerial: () => ++serial,
    reset() {
      for (const m of [state.openids, state.codes, state.unionids, state.prepays, state.loginCalls])
        m.clear();
      for (const m of [orders, transactions, refunds, refundIds]) m.clear();
      state.notifications.length = 0;
      state.faults.length = 0;
    },
  };
  return state;
}
