import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signResponseV3 } from '../../wechat/v3/sign.js';
import type { MerchantConfig } from '../config.js';
import { errCodeFault } from '../err-codes.js';
import { type ChosenFault, type FaultName, type SimApi, takeFault } from '../faults.js';
import { answerTransportFault, resolveFault } from '../request-faults.js';
import type { SimContext } from '../sim-context.js';
import { authenticate } from './auth.js';
import { parseJsonObject } from './json-fields.js';
import type { V3Outcome } from './outcomes.js';
import { v3CodeOf, v3Error } from './outcomes.js';
import type { PlatformKeys } from './platform-keys.js';

/**
 * The shared pipeline of every Pay API v3 route, in WeChat's order: the `Authorization`
 * signature, the JSON body, the faults, then the route; every answer but the bill file is signed
 * with the simulator's WeChat Pay key (errors and 204 included).
 */

export interface V3Context extends SimContext {
  keys: PlatformKeys;
  /** Bill files waiting to be downloaded, by token. */
  bills: Map<string, Buffer>;
}

export interface V3Request {
  merchant: MerchantConfig;
  /** The JSON body of a POST (`{}` for a GET). */
  body: Record<string, unknown>;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  now: number;
  /** `http://host:port` as the client reached us, for links such as the bill's download_url. */
  origin: string;
}

export interface V3Api {
  api: SimApi;
  method: 'GET' | 'POST';
  path: string;
  handle(request: V3Request): V3Outcome | Promise<V3Outcome>;
}

export const V3_FAULTS: readonly FaultName[] = [
  'SYSTEMERROR',
  'HTTP_500',
  'HTML_502',
  'HANG',
  'RESET_AFTER_APPLY',
  'BAD_SIGNATURE',
  'STALE_TIMESTAMP',
  'WRONG_SERIAL',
  'BAD_RESPONSE_SIGNATURE',
  'SLOW_RESPONSE',
  'PARTIAL_BODY',
  'ERR_CODE',
];

/** How far back STALE_TIMESTAMP dates a response: well past the 5-minute window. */
const STALE_SECONDS = 600;

/** A random string of `n` letters and digits, the shape of WeChat's nonces. */
export function nonceOf(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Signs and sends `outcome`; `fault` may spoil the signature in one of the documented ways. */
function send(
  ctx: V3Context,
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: V3Outcome,
  fault?: ChosenFault,
) {
  if (outcome.kind === 'file') return reply.type(outcome.contentType).send(outcome.body);
  const body = outcome.kind === 'json' ? JSON.stringify(outcome.body) : '';
  const signer = ctx.keys.responseSigner(header(request, 'wechatpay-serial'));
  const now = Math.floor(ctx.clock.now() / 1000);
  const name = fault?.fault;
  const timestamp = name === 'STALE_TIMESTAMP' ? now - STALE_SECONDS : now;
  const bad = name === 'BAD_RESPONSE_SIGNATURE' || name === 'BAD_SIGNATURE';
  // A bad signature still looks right: same key, same length, over other bytes.
  const headers = signResponseV3({
    body: bad ? `${body} ` : body,
    privateKey: signer.privateKey,
    serial: signer.serial,
    timestamp,
    nonce: nonceOf(32),
  });
  if (name === 'WRONG_SERIAL') headers['Wechatpay-Serial'] = `PUB_KEY_ID_${'0'.repeat(32)}`;
  reply.headers({ ...headers, 'Request-ID': `08${randomBytes(15).toString('hex').toUpperCase()}` });
  if (outcome.kind === 'empty') return reply.code(204).send();
  return reply.code(outcome.status).type('application/json; charset=utf-8').send(body);
}

function scopeOf(request: FastifyRequest): { mchId: string | undefined; outTradeNo: string | undefined } {
  const auth = header(request, 'authorization') ?? '';
  const params = request.params as Record<string, string>;
  return {
    mchId: /mchid="([^"]*)"/.exec(auth)?.[1],
    outTradeNo: params.out_trade_no ?? /"out_trade_no"\s*:\s*"([^"]*)"/.exec(String(request.body ?? ''))?.[1],
  };
}

async function run(ctx: V3Context, api: V3Api, request: FastifyRequest, reply: FastifyReply) {
  const chosen = resolveFault(request, V3_FAULTS, () =>
    takeFault(ctx.state.faults, V3_FAULTS, { ...scopeOf(request), api: api.api }),
  );
  if ('error' in chosen) return reply.code(400).send({ error: chosen.error });
  const fault = chosen.fault;
  const errCode = fault?.fault === 'ERR_CODE' ? errCodeFault(fault.params, api.api) : undefined;
  if (errCode && 'error' in errCode) return reply.code(400).send({ error: errCode.error });
  await ctx.keys.ready();
  if (fault && (await answerTransportFault(fault, request, reply, 'before', ctx.hungSockets))) return reply;
  const raw = typeof request.body === 'string' ? request.body : '';
  const auth = authenticate(ctx, request, raw);
  if ('refusal' in auth) return send(ctx, request, reply, auth.refusal, fault);
  const { merchant } = auth;
  let body: Record<string, unknown> = {};
  if (api.method === 'POST') {
    const parsed = parseJsonObject(raw);
    if (!parsed.ok) return send(ctx, request, reply, parsed.outcome, fault);
    body = parsed.value;
  }
  if (fault?.fault === 'SYSTEMERROR')
    return send(ctx, request, reply, v3Error(500, 'SYSTEM_ERROR', '系统繁忙，请稍后重试'), fault);
  if (errCode && 'errCode' in errCode) {
    const [status, code] = v3CodeOf(errCode.errCode, ctx.behaviour);
    return send(ctx, request, reply, v3Error(status, code, errCode.des), fault);
  }
  const outcome = await api.handle({
    merchant,
    body,
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | undefined>,
    now: ctx.clock.now(),
    origin: `${request.protocol}://${request.headers.host ?? '127.0.0.1'}`,
  });
  if (fault && (await answerTransportFault(fault, request, reply, 'after', ctx.hungSockets))) return reply;
  return send(ctx, request, reply, outcome, fault);
}

/**
 * Registers the v3 routes in their own scope: bodies arrive as the exact text sent, because the
 * signature covers those bytes.
 */
export function registerV3Apis(app: FastifyInstance, ctx: V3Context, apis: readonly V3Api[]): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    // Unknown paths (and known ones with another method) get WeChat's JSON 404, signed as well.
    scope.all('/v3/*', async (request, reply) => {
      await ctx.keys.ready();
      return send(ctx, request, reply, v3Error(404, 'NOT_FOUND', '请求的资源不存在'));
    });
    for (const api of apis) {
      scope.route({
        method: api.method,
        url: api.path,
        handler: (request, reply) => run(ctx, api, request, reply),
      });
    }
  });
}
