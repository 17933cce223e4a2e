import type { FastifyInstance, FastifyReply } from 'fastify';
import { errCodeFault } from './err-codes.js';
import { defaultTimes, type FaultRule, isFaultName, NOTIFY_FAULTS, SIM_APIS, type SimApi } from './faults.js';
import * as ids from './ids.js';
import { currentState, payableUntil } from './order-rules.js';
import { playRequestPayment } from './payment.js';
import { resolveFault } from './request-faults.js';
import type { SimContext } from './sim-context.js';
import type { SimOrder } from './state.js';

/**
 * The simulator's own JSON API under /sim/: plays the phone (login, pay), shows what happened
 * (orders, notification attempts), moves the clock and sets faults. CORS is open so a demo page
 * served from another port can call it.
 */

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function orderView(ctx: SimContext, o: SimOrder) {
  return {
    mch_id: o.mchId,
    appid: o.appid,
    out_trade_no: o.outTradeNo,
    trade_state: currentState(o, ctx.clock.now(), ctx.behaviour),
    trade_type: o.tradeType,
    body: o.body,
    attach: o.attach ?? null,
    total_fee: o.totalFee,
    cash_fee: o.cashFee ?? null,
    coupon_fee: o.couponFee,
    openid: o.openid ?? null,
    api: o.api ?? 'v2',
    sign_type: o.api === 'v3' ? 'RSA' : o.signType,
    notify_url: o.notifyUrl,
    prepay_id: o.prepayId,
    prepay_expires_at: iso(o.prepayIssuedAt + ctx.behaviour.prepayLifetimeSeconds * 1000),
    time_expire: iso(o.timeExpire),
    payable_until: iso(payableUntil(o, ctx.behaviour)),
    transaction_id: o.transactionId ?? null,
    time_end: iso(o.timeEnd),
    created_at: iso(o.createdAt),
    refunds: o.refunds.map((r) => ({
      out_refund_no: r.outRefundNo,
      refund_id: r.refundId,
      refund_fee: r.refundFee,
      status: r.status,
      created_at: iso(r.createdAt),
      success_at: iso(r.successAt),
    })),
  };
}

const badRequest = (reply: FastifyReply, error: string) => reply.code(400).send({ error });

function parseFaultBody(ctx: SimContext, body: unknown): FaultRule | string {
  if (typeof body !== 'object' || body === null) return 'body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (!isFaultName(b.fault)) return `unknown fault ${JSON.stringify(b.fault)}`;
  if (b.api !== undefined && !SIM_APIS.includes(b.api as SimApi))
    return `api must be one of ${SIM_APIS.join(', ')}`;
  if (b.times !== undefined && b.times !== null && !(Number.isInteger(b.times) && (b.times as number) >= 1)) {
    return 'times must be an integer ≥ 1 (or null for unlimited)';
  }
  if (b.params !== undefined && (typeof b.params !== 'object' || b.params === null))
    return 'params must be an object';
  // `err_code` may sit beside `fault` for short: {fault:'ERR_CODE', api:'refund', err_code:'NOTENOUGH'}.
  const params = {
    ...(b.params as Record<string, unknown> | undefined),
    ...(b.err_code !== undefined && { err_code: b.err_code }),
  };
  if (b.fault === 'ERR_CODE') {
    if (b.api === undefined) return 'ERR_CODE needs api: the API whose err_code it is (e.g. refund)';
    const chosen = errCodeFault(params, b.api as SimApi);
    if ('error' in chosen) return chosen.error;
    params.err_code = chosen.errCode;
  }
  for (const k of ['mch_id', 'out_trade_no'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'string') return `${k} must be a string`;
  }
  const rule: FaultRule = {
    id: `f${ctx.state.nextSerial()}`,
    fault: b.fault,
    times: b.times === undefined ? defaultTimes(b.fault) : (b.times as number | null),
    params,
    created_at: new Date(ctx.clock.now()).toISOString(),
  };
  if (typeof b.mch_id === 'string') rule.mch_id = b.mch_id;
  if (typeof b.out_trade_no === 'string') rule.out_trade_no = b.out_trade_no;
  if (b.api !== undefined) rule.api = b.api as SimApi;
  return rule;
}

export function registerControlRoutes(app: FastifyInstance, ctx: SimContext): void {
  const { state, clock } = ctx;

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/sim/')) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS');
    reply.header('access-control-allow-headers', 'content-type, x-sim-fault, x-sim-fault-params');
  });
  app.options('/sim/*', async (_request, reply) => reply.code(204).send());

  app.post('/sim/login', async (request, reply) => {
    const body = (request.body ?? {}) as {
      appid?: unknown;
      openid?: unknown;
      unionid?: unknown;
      high_risk?: unknown;
    };
    const appid = typeof body.appid === 'string' ? body.appid : state.apps.keys().next().value;
    if (!appid || !state.apps.has(appid))
      return badRequest(reply, `unknown appid ${JSON.stringify(body.appid)}`);
    const openid = typeof body.openid === 'string' && body.openid !== '' ? body.openid : ids.openid();
    if (openid.length > 128) return badRequest(reply, 'openid is at most 128 characters');
    const owner = state.openids.get(openid);
    if (owner !== undefined && owner !== appid)
      return badRequest(reply, `openid ${openid} belongs to appid ${owner}`);
    const given = typeof body.unionid === 'string' && body.unionid !== '' ? body.unionid : undefined;
    const bound = state.apps.get(appid)?.openPlatform !== undefined;
    if (given !== undefined && !bound)
      return badRequest(
        reply,
        `appid ${appid} is not bound to an Open Platform account, so it has no unionid`,
      );
    if (given !== undefined && given.length > 128)
      return badRequest(reply, 'unionid is at most 128 characters');
    state.openids.set(openid, appid);
    const unionid = bound ? (given ?? state.unionids.get(openid) ?? ids.unionid()) : undefined;
    if (unionid !== undefined) state.unionids.set(openid, unionid);
    const code = ids.loginCode();
    const highRisk = body.high_risk === true;
    state.codes.set(code, { appid, openid, unionid, highRisk, issuedAt: clock.now(), used: false });
    return { code, openid, appid, ...(unionid === undefined ? {} : { unionid }) };
  });

  app.post('/sim/pay', async (request, reply) => {
    const chosen = resolveFault(request, ['COUPON', ...NOTIFY_FAULTS], () => undefined);
    if ('error' in chosen) return badRequest(reply, chosen.error);
    const answer = playRequestPayment(ctx, request.body, chosen.fault);
    return reply.code(answer.status).send(answer.body);
  });

  app.get('/sim/notifications', async (request) => {
    const q = request.query as { out_trade_no?: string; mch_id?: string; kind?: string };
    const attempts = state.notifications.filter(
      (n) =>
        (q.out_trade_no === undefined || n.out_trade_no === q.out_trade_no) &&
        (q.mch_id === undefined || n.mch_id === q.mch_id) &&
        (q.kind === undefined || n.kind === q.kind),
    );
    return { attempts };
  });

  app.get('/sim/orders', async (request) => {
    const q = request.query as { mch_id?: string; out_trade_no?: string };
    const orders = state
      .orders(q.mch_id)
      .filter((o) => q.out_trade_no === undefined || o.outTradeNo === q.out_trade_no)
      .map((o) => orderView(ctx, o));
    return { orders };
  });

  const clockView = () => ({
    now: new Date(clock.now()).toISOString(),
    now_ms: clock.now(),
    offset_ms: clock.offsetMs(),
    time_scale: ctx.timeScale,
  });
  app.get('/sim/clock', async () => clockView());
  app.post('/sim/clock/advance', async (request, reply) => {
    const seconds = (request.body as { seconds?: unknown } | undefined)?.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      return badRequest(reply, 'seconds must be a number ≥ 0');
    }
    await clock.advance(seconds * 1000);
    return clockView();
  });

  // Undoes every advance: the demo's "+60 s" must not leave every later payment time in the future.
  app.post('/sim/clock/reset', async () => {
    clock.resetOffset();
    return clockView();
  });

  app.get('/sim/faults', async () => ({ faults: state.faults }));
  app.post('/sim/faults', async (request, reply) => {
    const rule = parseFaultBody(ctx, request.body);
    if (typeof rule === 'string') return badRequest(reply, rule);
    state.faults.push(rule);
    return reply.code(201).send(rule);
  });
  app.delete('/sim/faults', async () => {
    const removed = state.faults.splice(0).length;
    return { removed };
  });
  app.delete('/sim/faults/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const i = state.faults.findIndex((f) => f.id === id);
    if (i < 0) return reply.code(404).send({ error: `no fault ${id}` });
    state.faults.splice(i, 1);
    return { removed: 1 };
  });

  app.post('/sim/reset', async () => {
    // Pending notifications and refund completions belong to the old state: drop them too.
    clock.clear();
    state.reset();
    ctx.notifier.reset();
    return { ok: true };
  });
}
