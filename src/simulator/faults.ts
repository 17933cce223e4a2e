/**
 * Fault injection. A fault is chosen for one request with the `X-Sim-Fault` header (parameters
 * as JSON in `X-Sim-Fault-Params`), or set persistently with POST /sim/faults for every
 * request, a merchant, an order or one API.
 */

export const REQUEST_FAULTS = [
  'SYSTEMERROR',
  'HTTP_500',
  'HTML_502',
  'HANG',
  'RESET_AFTER_APPLY',
  'BAD_SIGNATURE',
  'LOGIN_SYSTEM_ERROR',
  'LOGIN_RATE_LIMIT',
  'LOGIN_HIGH_RISK',
  // API v3 only: the response (or a notification) is signed wrongly in one way.
  'STALE_TIMESTAMP',
  'WRONG_SERIAL',
  'BAD_RESPONSE_SIGNATURE',
  // The answer comes after `params.seconds`, or breaks off mid-body (v2, v3 and login).
  'SLOW_RESPONSE',
  'PARTIAL_BODY',
  // Any documented business err_code of the API (params.err_code), signed; nothing applied.
  'ERR_CODE',
] as const;

export const NOTIFY_FAULTS = [
  'NOTIFY_DROP',
  'NOTIFY_DUPLICATE',
  'DELAY',
  'REORDER',
  // Older names of DELAY and REORDER, still accepted.
  'NOTIFY_DELAY',
  'NOTIFY_OUT_OF_ORDER',
  // API v3: the next notification is a WECHATPAY/SIGNTEST/ probe, then the real one follows.
  'SIGN_PROBE',
] as const;

/**
 * Applies when a payment is made (the user pays part with a coupon) or a refund ends (it
 * ends ABNORMAL or CLOSED instead of SUCCESS).
 */
export const PAYMENT_FAULTS = ['COUPON', 'REFUND_ABNORMAL', 'REFUND_CLOSED'] as const;

export type RequestFault = (typeof REQUEST_FAULTS)[number];
export type NotifyFault = (typeof NOTIFY_FAULTS)[number];
export type FaultName = RequestFault | NotifyFault | (typeof PAYMENT_FAULTS)[number];

export const FAULT_NAMES: readonly FaultName[] = [...REQUEST_FAULTS, ...NOTIFY_FAULTS, ...PAYMENT_FAULTS];

export const SIM_APIS = [
  'unifiedorder',
  'orderquery',
  'closeorder',
  'refund',
  'refundquery',
  'downloadbill',
  'jscode2session',
  'certificates',
] as const;
export type SimApi = (typeof SIM_APIS)[number];

export type FaultParams = Readonly<Record<string, unknown>>;

export interface FaultRule {
  id: string;
  fault: FaultName;
  mch_id?: string;
  out_trade_no?: string;
  api?: SimApi;
  /** Uses left; `null` = until deleted. */
  times: number | null;
  params: FaultParams;
  created_at: string;
}

/** What a request or an event is about, to match rules against. */
export interface FaultScope {
  mchId?: string | undefined;
  outTradeNo?: string | undefined;
  api?: SimApi;
}

export interface ChosenFault {
  fault: FaultName;
  params: FaultParams;
}

export function isFaultName(value: unknown): value is FaultName {
  return typeof value === 'string' && (FAULT_NAMES as readonly string[]).includes(value);
}

/** Older names kept working: each plays exactly the fault it points to. */
const ALIASES: Readonly<Partial<Record<FaultName, FaultName>>> = {
  NOTIFY_DELAY: 'DELAY',
  NOTIFY_OUT_OF_ORDER: 'REORDER',
};

/** `name` and every older name for it, to look a fault up by either. */
export function namesOf(name: FaultName): FaultName[] {
  return [name, ...FAULT_NAMES.filter((n) => ALIASES[n] === name)];
}

export function isNotifyFault(name: FaultName): name is NotifyFault {
  return (NOTIFY_FAULTS as readonly string[]).includes(name);
}

/** Request faults default to one use; notification faults last until deleted (the brief's rule). */
export function defaultTimes(fault: FaultName): number | null {
  return isNotifyFault(fault) && fault !== 'SIGN_PROBE' ? null : 1;
}

function matches(rule: FaultRule, scope: FaultScope): boolean {
  if (rule.mch_id !== undefined && rule.mch_id !== scope.mchId) return false;
  if (rule.out_trade_no !== undefined && rule.out_trade_no !== scope.outTradeNo) return false;
  if (rule.api !== undefined && rule.api !== scope.api) return false;
  return true;
}

/**
 * Finds the first active rule among `names` that matches `scope`, and uses it up once.
 * Rules are tried in creation order.
 */
export function takeFault(
  rules: FaultRule[],
  names: readonly FaultName[],
  scope: FaultScope,
): ChosenFault | undefined {
  const i = rules.findIndex((r) => names.includes(r.fault) && matches(r, scope));
  if (i < 0) return undefined;
  const rule = rules[i]!;
  if (rule.times !== null) {
    rule.times -= 1;
    if (rule.times <= 0) rules.splice(i, 1);
  }
  return { fault: rule.fault, params: rule.params };
}

/** The fault a request asks for in its headers, if any, and whether the header named one we know. */
export function headerFault(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ChosenFault | { error: string } | undefined {
  const raw = headers['x-sim-fault'];
  const name = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!name) return undefined;
  if (!isFaultName(name))
    return { error: `unknown fault ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(', ')}` };
  const rawParams = headers['x-sim-fault-params'];
  const text = Array.isArray(rawParams) ? rawParams[0] : rawParams;
  let params: FaultParams = {};
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) params = parsed as FaultParams;
    } catch {
      return { error: 'X-Sim-Fault-Params must be a JSON object' };
    }
  }
  return { fault: name, params };
}

/** A non-negative number parameter (fractions allowed), or the default. */
export function numParam(params: FaultParams, name: string, fallback: number): number {
  const v = params[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
}

/** A non-negative integer parameter, or the default. */
export function intParam(params: FaultParams, name: string, fallback: number): number {
  const v = params[name];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback;
}
