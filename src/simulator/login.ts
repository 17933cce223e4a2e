import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { FaultName } from './faults.js';
import { takeFault } from './faults.js';
import * as ids from './ids.js';
import { answerTransportFault, resolveFault } from './request-faults.js';
import type { SimContext } from './sim-context.js';

/**
 * `GET /sns/jscode2session` (auth.code2Session): trades a wx.login code, issued by POST /sim/login, for
 * the openid and a session_key. A code lives 5 minutes, works once, and only for the appid it
 * was issued for. Errors are JSON with `errcode` and HTTP 200, as WeChat answers them.
 */

const LOGIN_FAULTS: readonly FaultName[] = [
  'LOGIN_SYSTEM_ERROR',
  'LOGIN_RATE_LIMIT',
  'LOGIN_HIGH_RISK',
  'SYSTEMERROR',
  'HTTP_500',
  'HTML_502',
  'HANG',
  'RESET_AFTER_APPLY',
  'SLOW_RESPONSE',
  'PARTIAL_BODY',
];

const ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system error',
  40029: 'invalid code',
  40163: 'code been used',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  40226: 'code blocked',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  40002: 'invalid grant_type',
};

const error = (errcode: number) => ({ errcode, errmsg: `${ERRMSG[errcode]}, rid: ${ids.requestId()}` });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Counts a call for `openid` unless it is over the per-minute quota. A refused call is not
 * recorded: it would otherwise take a slot of the following minute as well.
 */
function overQuota(ctx: SimContext, openid: string, now: number): boolean {
  const recent = (ctx.state.loginCalls.get(openid) ?? []).filter((t) => t > now - 60_000);
  ctx.state.loginCalls.set(openid, recent);
  if (recent.length >= ctx.behaviour.loginRateLimitPerMinute) return true;
  recent.push(now);
  return false;
}

export function registerLogin(app: FastifyInstance, ctx: SimContext): void {
  app.get('/sns/jscode2session', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const app = q.appid ? ctx.state.apps.get(q.appid) : undefined;
    const chosen = resolveFault(request, LOGIN_FAULTS, () =>
      takeFault(ctx.state.faults, LOGIN_FAULTS, { mchId: app?.mchId, api: 'jscode2session' }),
    );
    if ('error' in chosen) return reply.code(400).send({ error: chosen.error });
    const fault = chosen.fault;
    if (fault && (await answerTransportFault(fault, request, reply, 'before', ctx.hungSockets))) return reply;
    // WeChat historically answers text/plain even for JSON; clients must parse regardless.
    const json = (body: object) => reply.type('text/plain; charset=utf-8').send(JSON.stringify(body));
    if (fault?.fault === 'LOGIN_SYSTEM_ERROR' || fault?.fault === 'SYSTEMERROR') return json(error(-1));
    if (fault?.fault === 'LOGIN_RATE_LIMIT') return json(error(45011));
    if (fault?.fault === 'LOGIN_HIGH_RISK') return json(error(40226));
    const result = exchange(ctx, q);
    if (fault && (await answerTransportFault(fault, request, reply, 'after', ctx.hungSockets))) return reply;
    return json(result);
  });
}

function exchange(ctx: SimContext, q: Record<string, string | undefined>): object {
  if (!q.appid) return error(41002);
  if (!q.secret) return error(41004);
  if (!q.js_code) return error(41008);
  if (q.grant_type !== 'authorization_code') return error(40002);
  const app = ctx.state.apps.get(q.appid);
  if (!app) return error(40013);
  if (!sameSecret(q.secret, app.secret)) return error(40125);
  const now = ctx.clock.now();
  const code = ctx.state.codes.get(q.js_code);
  const expired = code !== undefined && now >= code.issuedAt + ctx.behaviour.codeLifetimeSeconds * 1000;
  if (!code || expired || code.appid !== q.appid) return error(40029);
  if (code.used && ctx.behaviour.codeSingleUse) return error(40163);
  if (code.highRisk) return error(40226);
  if (overQuota(ctx, code.openid, now)) return error(45011);
  code.used = true;
  const session = { session_key: ids.sessionKey(), openid: code.openid };
  return code.unionid === undefined ? session : { ...session, unionid: code.unionid };
}
