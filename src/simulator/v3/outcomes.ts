import type { SimBehaviour } from '../config.js';
import type { V2Outcome } from '../v2-endpoint.js';

/**
 * What a v3 route answers, and how the business rules' v2 vocabulary (`err_code`) reads in
 * v3's `{ code, message }` with an HTTP status (WeChat's 《错误码》 page). One set of rules
 * serves both versions: the v3 routes call the same handlers as v2 and translate.
 */

export interface V3ErrorBody {
  code: string;
  message: string;
  detail?: { field?: string; value?: unknown; issue?: string; location?: string };
}

export type V3Outcome =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'empty' }
  /** Unsigned bytes: the bill download only. */
  | { kind: 'file'; body: Buffer; contentType: string };

export const json = (body: unknown, status = 200): V3Outcome => ({ kind: 'json', status, body });

export const v3Error = (
  status: number,
  code: string,
  message: string,
  detail?: V3ErrorBody['detail'],
): V3Outcome => json({ code, message, ...(detail ? { detail } : {}) } satisfies V3ErrorBody, status);

/** The v3 status and code of a v2 `err_code`; unknown ones are a business-rule refusal. */
export function v3CodeOf(errCode: string, behaviour: SimBehaviour): [number, string] {
  switch (errCode) {
    case 'LACK_PARAMS':
    case 'PARAM_ERROR':
      return [400, 'PARAM_ERROR'];
    case 'APPID_NOT_EXIST':
    case 'APPID_MCHID_NOT_MATCH':
      return [400, 'APPID_MCHID_NOT_MATCH'];
    case 'OUT_TRADE_NO_USED':
      return [403, 'OUT_TRADE_NO_USED'];
    case 'ORDERPAID':
      return [behaviour.v3OrderPaidStatus, 'ORDERPAID'];
    case 'ORDERCLOSED':
      return [400, 'ORDER_CLOSED'];
    case 'ORDERNOTEXIST':
      return [404, behaviour.v3OrderNotExistCode];
    case 'INVALID_TRANSACTIONID':
    case 'REFUNDNOTEXIST':
      return [404, 'RESOURCE_NOT_EXISTS'];
    case 'SYSTEMERROR':
      return [500, 'SYSTEM_ERROR'];
    case 'FREQUENCY_LIMITED':
      return [429, 'FREQUENCY_LIMITED'];
    case 'INVALID_REQ_TOO_MUCH':
      return [403, 'REQUEST_BLOCKED'];
    // The v3 spellings of codes the v2 tables write without underscores (《错误码》).
    case 'NOAUTH':
      return [403, 'NO_AUTH'];
    case 'NOTENOUGH':
      return [403, 'NOT_ENOUGH'];
    case 'MCHID_NOT_EXIST':
      return [400, 'MCH_NOT_EXISTS'];
    case 'SIGNERROR':
      return [401, 'SIGN_ERROR'];
    case 'USER_ACCOUNT_ABNORMAL':
      return [403, 'USER_ACCOUNT_ABNORMAL'];
    // A refund to retry with the same out_refund_no: a server-side conflict, so a 5xx.
    case 'BIZERR_NEED_RETRY':
      return [500, 'BIZ_ERR_NEED_RETRY'];
    default:
      return [400, 'INVALID_REQUEST'];
  }
}

/** Translates a refusal of the shared rules; `undefined` when the outcome is a success. */
export function v3Refusal(outcome: V2Outcome, behaviour: SimBehaviour): V3Outcome | undefined {
  if (outcome.kind === 'fail') return v3Error(400, 'PARAM_ERROR', outcome.message);
  if (outcome.kind !== 'result' || outcome.fields.result_code !== 'FAIL') return undefined;
  const [status, code] = v3CodeOf(outcome.fields.err_code ?? '', behaviour);
  return v3Error(status, code, outcome.fields.err_code_des ?? code);
}
