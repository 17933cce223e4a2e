import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { maskOpenid } from '../observability/logger.js';
import { WechatLoginError } from '../wechat/errors.js';

export interface LoginServiceDeps {
  login: { code2Session(code: string): Promise<{ openid: string; unionid?: string | undefined }> };
  /** The user and the new session, written together (src/users/login-writes.ts). */
  logins: {
    record(
      who: { openid: string; unionid: string | null },
      options: { now: number; ttlMs: number },
    ): Promise<{ token: string; expiresAt: number }>;
  };
  clock: Clock;
  log: Logger;
  sessionTtlMs: number;
}

/** wx.login's code → code2Session, WeChat's refusals turned into our errors. */
function askWechat(deps: Pick<LoginServiceDeps, 'login' | 'log'>) {
  return async function ask(code: string): Promise<{ openid: string; unionid: string | null }> {
    let session: { openid: string; unionid?: string | undefined };
    try {
      session = await deps.login.code2Session(code);
    } catch (err) {
      if (!(err instanceof WechatLoginError)) throw err;
      switch (err.code) {
        case 'INVALID_CODE':
          throw new AppError(
            'INVALID_LOGIN_CODE',
            'The login code is invalid, expired or already used; call wx.login again.',
          );
        case 'RATE_LIMITED':
          throw new AppError('RATE_LIMITED', 'WeChat is rate-limiting logins; try again in a minute.', {
            retryAfter: 60,
          });
        case 'USER_BLOCKED':
          throw new AppError('LOGIN_BLOCKED', 'WeChat blocked this login as high-risk.');
        case 'UPSTREAM_RETRYABLE':
        case 'CONFIG':
          deps.log.error({ code: err.code, errcode: err.errcode }, 'code2Session failed');
          throw new AppError('UPSTREAM_UNAVAILABLE', 'Login is unavailable right now; try again shortly.', {
            retryAfter: 5,
          });
        default: {
          const unreachable: never = err.code;
          throw new Error(`unhandled login error ${String(unreachable)}`);
        }
      }
    }
    return { openid: session.openid, unionid: session.unionid ?? null };
  };
}

/**
 * wx.login's code → code2Session → the user, upserted by openid, for the shop's
 * `POST /v1/code2session`. The session_key stays inside the login client's result and is never
 * stored, returned or logged.
 */
export function createCodeExchange(
  deps: Pick<LoginServiceDeps, 'login' | 'log' | 'clock'> & {
    users: {
      upsertByOpenid(who: { openid: string; unionid: string | null }, now: number): Promise<{ id: string }>;
    };
  },
) {
  const ask = askWechat(deps);
  return async function exchange(
    code: string,
  ): Promise<{ userId: string; openid: string; unionid: string | null }> {
    const who = await ask(code);
    const user = await deps.users.upsertByOpenid(who, deps.clock.now());
    return { userId: user.id, ...who };
  };
}

/**
 * wx.login's code → our own session token; the phone only ever holds our token. The user and
 * the session are written together, with other logins of the same moment (login-writes.ts).
 */
export function createLoginService(deps: LoginServiceDeps) {
  const ask = askWechat(deps);
  return async function login(code: string): Promise<{ token: string; expiresIn: number }> {
    const who = await ask(code);
    const now = deps.clock.now();
    const { token, expiresAt } = await deps.logins.record(who, { now, ttlMs: deps.sessionTtlMs });
    deps.log.info({ openid: maskOpenid(who.openid) }, 'user logged in');
    return { token, expiresIn: Math.floor((expiresAt - now) / 1000) };
  };
}
