import type { V2SignType } from '../wechat/v2/sign.js';
import type { SimClock } from './sim-clock.js';

/** A mini program bound to a merchant. */
export interface SimAppConfig {
  appid: string;
  /** AppSecret, checked by /sns/jscode2session. Never shown by the simulator. */
  secret: string;
  /**
   * The Open Platform (开放平台) account the mini program is bound to, if any. code2Session
   * answers a `unionid` only for a bound app; apps bound to the same account share unionids.
   */
  openPlatform?: string;
}

/** A merchant account the simulator plays WeChat for. */
export interface MerchantConfig {
  mchId: string;
  /** API v2 key, 32 ASCII characters. Never shown by the simulator. */
  key: string;
  appids: SimAppConfig[];
  /** When set, the only algorithm this merchant accepts; by default both MD5 and HMAC-SHA256. */
  signType?: V2SignType;
  /** Shown on the cashier sheet. Default `商户<mchId>`. */
  name?: string;
  /**
   * The merchant's API client certificate (PEM). When set, a refund over mTLS presenting exactly
   * this certificate is accepted even if it does not chain to the simulator's CA.
   */
  cert?: string;
  /** The refund notification URL configured "in the merchant platform", used when a refund names none. */
  refundNotifyUrl?: string;
  /**
   * API v3 key, 32 ASCII characters: encrypts v3 notification resources and the platform
   * certificates of `GET /v3/certificates`. Never shown by the simulator.
   */
  apiV3Key?: string;
}

/**
 * How the simulated WeChat behaves where its documentation leaves room or merchants report
 * variations: one knob each, with WeChat's usual behaviour as the default (DEFAULT_BEHAVIOUR).
 */
export interface SimBehaviour {
  /** A login code lives this long. */
  codeLifetimeSeconds: number;
  /** A login code can be exchanged once. */
  codeSingleUse: boolean;
  /** code2Session calls per openid per minute before 45011. */
  loginRateLimitPerMinute: number;
  /** `prepay_id` lifetime. */
  prepayLifetimeSeconds: number;
  /** Re-entry with identical parameters issues a new prepay_id, or returns the same one. */
  reentryPrepayId: 'new' | 'same';
  /** The err_code for re-entry with different parameters. */
  reentryConflictCode: 'INVALID_REQUEST' | 'OUT_TRADE_NO_USED';
  /** Re-entry that changes only `time_expire` is accepted and the new value wins, as WeChat staff say. */
  allowTimeExpireChange: boolean;
  /** The earliest `time_expire`, in seconds after the call. */
  minTimeExpireSeconds: number;
  /** A sooner `time_expire` is raised to the minimum, or refused. */
  timeExpireTooSoon: 'clamp' | 'reject';
  /** A `time_expire` that has already passed is refused (INVALID_REQUEST), or raised to the minimum. */
  timeExpireInPast: 'reject' | 'clamp';
  /** An order without `time_expire` can be paid for this many days after it was placed. */
  orderLifetimeDays: number;
  /**
   * `appid和mch_id不匹配` as a communication error (`return_code=FAIL`, unsigned), or as the
   * signed business error `APPID_MCHID_NOT_MATCH`.
   */
  appidMchMismatch: 'return_code' | 'err_code';
  /** Closing within this many seconds of creation triggers `closeOrderRule`. */
  closeOrderMinAgeSeconds: number;
  /**
   * What an early close does (《关闭订单》 asks for 5 minutes): 'off' (not enforced), 'systemerror'
   * (answer SYSTEMERROR), 'noop' (SUCCESS but stays NOTPAY).
   */
  closeOrderRule: 'off' | 'systemerror' | 'noop';
  /** An expired unpaid order stays NOTPAY (payment refused), or is reported CLOSED. */
  expiredOrderState: 'NOTPAY' | 'CLOSED';
  /** Seconds to wait before each retry (15 retries; 24h04m in total). */
  notifyRetrySchedule: number[];
  /** Copies of every notification attempt, sent concurrently. */
  notifyCopies: number;
  /** HTTP timeout of one delivery attempt (WeChat wants a reply within 5 s). */
  notifyTimeoutMs: number;
  /** Refuse a notify_url that is not https. Off by default so http://127.0.0.1 works. */
  requireHttpsNotifyUrl: boolean;
  /** JSAPI openids must come from /sim/login for the same appid. */
  strictOpenid: boolean;
  /** A refund stays PROCESSING this long, then becomes SUCCESS. */
  refundDelaySeconds: number;
  /** At most this many refunds per order. */
  maxRefundsPerOrder: number;
  /** The first refund moves the order to REFUND, even a partial one, as merchants report. */
  refundMarksOrder: boolean;
  /** Refunds only over mTLS with the merchant's client certificate. Default: on when TLS is configured. */
  refundRequiresClientCert: boolean;
  /** `return_msg` of a signature failure. */
  signFailureMessage: string;
  /** A day's bill can be downloaded from this many hours after the day ends (Beijing time). */
  billDelayHours: number;
  /** Prefix the bill text with a UTF-8 byte-order mark, as WeChat sometimes does. */
  billBom: boolean;
  /** A v3 request whose `timestamp` is further than this from now is refused (401 SIGN_ERROR). */
  v3TimestampToleranceSeconds: number;
  /** v3: the HTTP status of `ORDERPAID` on re-order or close (not documented; community code shows 400). */
  v3OrderPaidStatus: 400 | 403;
  /** v3: closing an order already closed answers 204 again, or 400 `ORDER_CLOSED` (not documented). */
  v3CloseClosedOrder: 'no-content' | 'ORDER_CLOSED';
  /** v3: the code of an unknown order, `ORDER_NOT_EXIST` or `ORDERNOTEXIST` (not documented; both appear). */
  v3OrderNotExistCode: 'ORDER_NOT_EXIST' | 'ORDERNOTEXIST';
}

/** 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (《支付结果通知》). */
export const WECHAT_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

export const DEFAULT_BEHAVIOUR: Readonly<Omit<SimBehaviour, 'refundRequiresClientCert'>> = {
  codeLifetimeSeconds: 300,
  codeSingleUse: true,
  loginRateLimitPerMinute: 100,
  prepayLifetimeSeconds: 7200,
  reentryPrepayId: 'new',
  reentryConflictCode: 'INVALID_REQUEST',
  allowTimeExpireChange: true,
  minTimeExpireSeconds: 60,
  timeExpireTooSoon: 'clamp',
  timeExpireInPast: 'reject',
  orderLifetimeDays: 7,
  appidMchMismatch: 'return_code',
  closeOrderMinAgeSeconds: 300,
  closeOrderRule: 'off',
  expiredOrderState: 'NOTPAY',
  notifyRetrySchedule: [...WECHAT_RETRY_SCHEDULE_SECONDS],
  notifyCopies: 1,
  notifyTimeoutMs: 5000,
  requireHttpsNotifyUrl: false,
  strictOpenid: true,
  refundDelaySeconds: 60,
  maxRefundsPerOrder: 50,
  refundMarksOrder: true,
  signFailureMessage: '签名错误',
  billDelayHours: 10,
  billBom: false,
  v3TimestampToleranceSeconds: 300,
  v3OrderPaidStatus: 400,
  v3CloseClosedOrder: 'no-content',
  v3OrderNotExistCode: 'ORDER_NOT_EXIST',
};

/** PEM material for the HTTPS listener that serves `/secapi/pay/refund` with client certificates. */
export interface SimTlsOptions {
  cert: string;
  key: string;
  /** The CA that issued merchants' client certificates. */
  ca: string;
}

export interface SimLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface SimulatorOptions {
  merchants: MerchantConfig[];
  /** Default: real time, not frozen. Tests pass `createSimClock({ frozen: true })`. */
  clock?: SimClock;
  /** Divides notification waits (retries, DELAY, REORDER): 60 turns 15 s into 0.25 s. Default 1. */
  timeScale?: number;
  behaviour?: Partial<SimBehaviour>;
  tls?: SimTlsOptions;
  /** Where the simulator reports notification failures and the like. Default: silent. */
  log?: SimLogger;
  /**
   * Which WeChat Pay key signs v3 responses and notifications: the WeChat Pay public key
   * (`PUB_KEY_ID_…`, default), platform certificates, or `both` (the migration period).
   */
  v3KeyMode?: V3KeyMode;
  /** The simulator's WeChat Pay private key (PEM). Default: generated at start. */
  v3PrivateKey?: string;
}

export type V3KeyMode = 'public-key' | 'certificate' | 'both';
export const V3_KEY_MODES: readonly V3KeyMode[] = ['public-key', 'certificate', 'both'];

/** The knobs that take one of a few values, and those values. */
export const KNOB_CHOICES: Readonly<Partial<Record<keyof SimBehaviour, readonly (string | number)[]>>> = {
  reentryPrepayId: ['new', 'same'],
  reentryConflictCode: ['INVALID_REQUEST', 'OUT_TRADE_NO_USED'],
  timeExpireTooSoon: ['clamp', 'reject'],
  timeExpireInPast: ['reject', 'clamp'],
  appidMchMismatch: ['return_code', 'err_code'],
  closeOrderRule: ['off', 'systemerror', 'noop'],
  expiredOrderState: ['NOTPAY', 'CLOSED'],
  v3OrderPaidStatus: [400, 403],
  v3CloseClosedOrder: ['no-content', 'ORDER_CLOSED'],
  v3OrderNotExistCode: ['ORDER_NOT_EXIST', 'ORDERNOTEXIST'],
};

/** Merges knobs over the defaults and checks them, listing every problem at once. */
export function resolveBehaviour(partial: Partial<SimBehaviour> | undefined, tls: boolean): SimBehaviour {
  const b: SimBehaviour = { ...DEFAULT_BEHAVIOUR, refundRequiresClientCert: tls, ...partial };
  const problems: string[] = [];
  const nonNegative: (keyof SimBehaviour)[] = [
    'codeLifetimeSeconds',
    'loginRateLimitPerMinute',
    'prepayLifetimeSeconds',
    'minTimeExpireSeconds',
    'orderLifetimeDays',
    'closeOrderMinAgeSeconds',
    'notifyTimeoutMs',
    'refundDelaySeconds',
    'maxRefundsPerOrder',
    'billDelayHours',
    'v3TimestampToleranceSeconds',
  ];
  for (const k of nonNegative) {
    const v = b[k];
    if (typeof v !== 'number' || !(v >= 0)) problems.push(`behaviour.${k} must be a number ≥ 0 (got ${v})`);
  }
  if (!Number.isInteger(b.notifyCopies) || b.notifyCopies < 1) {
    problems.push(`behaviour.notifyCopies must be an integer ≥ 1 (got ${b.notifyCopies})`);
  }
  if (!b.notifyRetrySchedule.every((s) => s >= 0)) {
    problems.push('behaviour.notifyRetrySchedule must hold seconds ≥ 0');
  }
  for (const [k, allowed] of Object.entries(KNOB_CHOICES) as [keyof SimBehaviour, readonly unknown[]][]) {
    if (!allowed.includes(b[k]))
      problems.push(`behaviour.${k} must be ${allowed.join(' or ')} (got ${JSON.stringify(b[k])})`);
  }
  if (problems.length > 0) throw new RangeError(`Invalid simulator behaviour:\n- ${problems.join('\n- ')}`);
  return b;
}
