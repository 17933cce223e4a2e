import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { XmlError } from '../wechat/errors.js';
import { createNonce } from '../wechat/v2/fields.js';
import { signTypeOfV2, signV2, type V2SignType, verifyV2 } from '../wechat/v2/sign.js';
import { buildXml, parseXml } from '../wechat/v2/xml.js';
import type { MerchantConfig } from './config.js';
import { errCodeFault } from './err-codes.js';
import { type ChosenFault, type FaultName, type SimApi, takeFault } from './faults.js';
import { answerTransportFault, resolveFault } from './request-faults.js';
import type { SimContext } from './sim-context.js';
import { clientCertProblem } from './tls.js';
import { COMMON_SPECS, checkFields } from './validation.js';

/**
 * The shared pipeline of every Pay API v2 route: the checks WeChat makes before any business
 * logic, in its order (method, body, UTF-8, XML, merchant, certificate, signature, appid), the
 * faults, and the signed reply.
 */

export interface V2Request {
  fields: Readonly<Record<string, string>>;
  merchant: MerchantConfig;
  signType: V2SignType;
  now: number;
  fault: ChosenFault | undefined;
}

/** What a handler answers. `result` gets return_code/appid/mch_id/nonce_str/sign added. */
export type V2Outcome =
  | { kind: 'fail'; message: string; errorCode?: string }
  | { kind: 'result'; fields: Record<string, string> }
  | { kind: 'text'; body: Buffer | string; contentType: string };

export interface V2Api {
  api: SimApi;
  path: string;
  /** Refund: the request must come over mTLS with the merchant's certificate. */
  clientCert?: boolean;
  /** downloadbill answers failures with `error_code` and its own English messages. */
  billStyle?: boolean;
  handle(request: V2Request): V2Outcome | Promise<V2Outcome>;
}

/** `result_code=SUCCESS` with business fields. */
export const ok = (fields: Record<string, string> = {}): V2Outcome => ({
  kind: 'result',
  fields: { result_code: 'SUCCESS', ...fields },
});

/** `result_code=FAIL` with WeChat's err_code. */
export const refuse = (errCode: string, des: string, extra: Record<string, string> = {}): V2Outcome => ({
  kind: 'result',
  fields: { result_code: 'FAIL', err_code: errCode, err_code_des: des, ...extra },
});

type V2Fail = Extract<V2Outcome, { kind: 'fail' }>;

/** `return_code=FAIL`: unsigned, only `return_msg`. */
export const fail = (message: string): V2Fail => ({ kind: 'fail', message });

/** `return_msg` of the request-format errors every v2 API lists: not POST, empty, not UTF-8, bad XML. */
export const PROTOCOL_MESSAGES = {
  REQUIRE_POST_METHOD: '请使用post方法',
  POST_DATA_EMPTY: 'post数据为空',
  NOT_UTF8: '编码格式错误，请使用UTF-8编码',
  XML_FORMAT_ERROR: 'XML格式错误',
} as const;

const PAY_FAULTS: readonly FaultName[] = [
  'SYSTEMERROR',
  'HTTP_500',
  'HTML_502',
  'HANG',
  'RESET_AFTER_APPLY',
  'BAD_SIGNATURE',
  'SLOW_RESPONSE',
  'PARTIAL_BODY',
  'ERR_CODE',
];

type Parsed = { fields: Record<string, string> } | { outcome: V2Outcome };

function parseBody(request: FastifyRequest): Parsed {
  if (request.method !== 'POST') return { outcome: fail(PROTOCOL_MESSAGES.REQUIRE_POST_METHOD) };
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (body.length === 0) return { outcome: fail(PROTOCOL_MESSAGES.POST_DATA_EMPTY) };
  if (!isUtf8(body)) return { outcome: fail(PROTOCOL_MESSAGES.NOT_UTF8) };
  try {
    return { fields: { ...parseXml(body) } };
  } catch (error) {
    const notUtf8 = error instanceof XmlError && error.code === 'XML_NOT_UTF8';
    return { outcome: fail(notUtf8 ? PROTOCOL_MESSAGES.NOT_UTF8 : PROTOCOL_MESSAGES.XML_FORMAT_ERROR) };
  }
}

/** downloadbill's failure vocabulary (《下载交易账单》); the numeric codes beyond 20002 are a guess. */
function billFailure(outcome: V2Fail, phase: string): V2Outcome {
  if (outcome.errorCode) return outcome;
  const map: Record<string, [string, string]> = {
    sign: ['SIGN ERROR', '20001'],
    missing: ['missing parameter', '20001'],
    appid: ['invalid appid', '20001'],
    system: ['system error', '20007'],
  };
  const [message, errorCode] = map[phase] ?? ['invalid parameter', '20001'];
  return { kind: 'fail', message, errorCode };
}

async function runPipeline(
  ctx: SimContext,
  api: V2Api,
  request: FastifyRequest,
  fields: Record<string, string>,
  fault: ChosenFault | undefined,
): Promise<{ outcome: V2Outcome; merchant?: MerchantConfig; signType?: V2SignType }> {
  const failAs = (outcome: V2Fail, phase: string) => ({
    outcome: api.billStyle ? billFailure(outcome, phase) : outcome,
  });
  const problem = checkFields(fields, COMMON_SPECS);
  if (problem) {
    const message = problem.kind === 'missing' ? `缺少参数${problem.field}` : problem.message;
    return failAs(fail(message), problem.kind);
  }
  const merchant = ctx.state.merchants.get(fields.mch_id!);
  if (!merchant) return failAs(fail('商户号mch_id不存在'), 'mch_id');
  if (api.clientCert && ctx.behaviour.refundRequiresClientCert) {
    const certProblem = clientCertProblem(request.raw.socket, merchant);
    if (certProblem) return failAs(fail(certProblem), 'cert');
  }
  const signType = signTypeOfV2(fields);
  const signed = verifyV2(fields, merchant.key) && (!merchant.signType || merchant.signType === signType);
  if (!signed || !signType) return failAs(fail(ctx.behaviour.signFailureMessage), 'sign');
  const app = ctx.state.apps.get(fields.appid!);
  if (api.billStyle && app?.mchId !== merchant.mchId) return failAs(fail('invalid appid'), 'appid');
  const base = { merchant, signType };
  if (!app) return { ...base, outcome: refuse('APPID_NOT_EXIST', 'appid不存在') };
  if (app.mchId !== merchant.mchId) {
    // Merchants see this as a communication error (return_code=FAIL); 《统一下单》's err_code is a knob.
    if (ctx.behaviour.appidMchMismatch === 'return_code') return failAs(fail('appid和mch_id不匹配'), 'appid');
    return { ...base, outcome: refuse('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配') };
  }
  if (fault?.fault === 'SYSTEMERROR') {
    const outcome = api.billStyle
      ? billFailure(fail('system error'), 'system')
      : refuse('SYSTEMERROR', '系统超时');
    return { ...base, outcome };
  }
  if (fault?.fault === 'ERR_CODE') {
    // Checked when the fault was chosen (registerV2Api): a documented code of this API.
    const chosen = errCodeFault(fault.params, api.api) as { errCode: string; des: string };
    return { ...base, outcome: refuse(chosen.errCode, chosen.des) };
  }
  const outcome = await api.handle({ fields, merchant, signType, now: ctx.clock.now(), fault });
  return { ...base, outcome };
}

function send(
  reply: FastifyReply,
  outcome: V2Outcome,
  fields: Readonly<Record<string, string>>,
  signing: {
    merchant?: MerchantConfig | undefined;
    signType?: V2SignType | undefined;
    badSignature: boolean;
  },
): FastifyReply {
  if (outcome.kind === 'text') return reply.type(outcome.contentType).send(outcome.body);
  reply.type('text/xml; charset=utf-8');
  if (outcome.kind === 'fail') {
    const out: Record<string, string> = { return_code: 'FAIL', return_msg: outcome.message };
    if (outcome.errorCode) out.error_code = outcome.errorCode;
    return reply.send(buildXml(out));
  }
  const { merchant, signType } = signing;
  const out: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: fields.appid ?? '',
    mch_id: fields.mch_id ?? '',
    nonce_str: createNonce(),
    ...outcome.fields,
  };
  if (fields.device_info && out.device_info === undefined) out.device_info = fields.device_info;
  if (merchant && signType) {
    // A bad signature that still looks right: same algorithm, same length, wrong key.
    const key = signing.badSignature ? [...merchant.key].reverse().join('') : merchant.key;
    out.sign = signV2(out, key, signType);
  }
  return reply.send(buildXml(out));
}

/** Registers `api` for every method, so a GET gets WeChat's REQUIRE_POST_METHOD answer. */
export function registerV2Api(scope: FastifyInstance, ctx: SimContext, api: V2Api): void {
  scope.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: api.path,
    handler: async (request, reply) => {
      const parsed = parseBody(request);
      if ('outcome' in parsed) {
        const outcome =
          api.billStyle && parsed.outcome.kind === 'fail'
            ? billFailure(parsed.outcome, 'xml')
            : parsed.outcome;
        return send(reply, outcome, {}, { badSignature: false });
      }
      const { fields } = parsed;
      const outTradeNo =
        fields.out_trade_no ||
        (fields.transaction_id && fields.mch_id
          ? ctx.state.orderByTransaction(fields.mch_id, fields.transaction_id)?.outTradeNo
          : undefined);
      const chosen = resolveFault(request, PAY_FAULTS, () =>
        takeFault(ctx.state.faults, PAY_FAULTS, { mchId: fields.mch_id, outTradeNo, api: api.api }),
      );
      if ('error' in chosen) return reply.code(400).send({ error: chosen.error });
      const fault = chosen.fault;
      const errCode = fault?.fault === 'ERR_CODE' ? errCodeFault(fault.params, api.api) : undefined;
      if (errCode && 'error' in errCode) return reply.code(400).send({ error: errCode.error });
      if (fault && (await answerTransportFault(fault, request, reply, 'before', ctx.hungSockets)))
        return reply;
      const result = await runPipeline(ctx, api, request, fields, fault);
      if (fault && (await answerTransportFault(fault, request, reply, 'after', ctx.hungSockets)))
        return reply;
      return send(reply, result.outcome, fields, {
        merchant: result.merchant,
        signType: result.signType,
        badSignature: fault?.fault === 'BAD_SIGNATURE',
      });
    },
  });
}
