import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { maskOpenid } from '../observability/logger.js';
import { WechatLoginError } from '../wechat/errors.js';

export interface LoginServiceDeps {
  login: { code2Session(code: string): Promise<{ openid: string; unionid?: string | undefined }> };
  users: {
    upsertByOpenid(user: { openid: string; unionid: string | null }, now: number): Promise<{ id: string }>;
  };
  sessions: {
    create(
      userId: string,
      options: { now: number; ttlMs: number },
    ): Promise<{ token: string; expiresAt: number }>;
  };
  clock: Clock;
  log: Logger;
  sessionTtlMs: number;
}

/**
 * wx.login's code → code2Session → the user, upserted by openid. The session_key stays inside the
 * login client's result and is never stored, returned or logged. Shared by the phone's login and
 * the shop's `POST /v1/code2session`.
 */
export function createCodeExchange(deps: Omit<LoginServiceDeps, 'sessions' | 'sessionTtlMs'>) {
  return async function exchange(
    code: string,
  ): Promise<{ userId: string; openid: string; unionid: string | null }> {
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
    const unionid = session.unionid ?? null;
    const user = await deps.users.upsertByOpenid({ openid: session.openid, unionid }, deps.clock.now());
    return { userId: user.id, openid: session.openid, unionid };
  };
}

/** wx.login's code → our own session token; the phone only ever holds our token. */
export function createLoginService(deps: LoginServiceDeps) {
  const exchange = createCodeExchange(deps);
  return async function login(code: string): Promise<{ token: string; expiresIn: number }> {
    const { userId, openid } = await exchange(code);
    const now = deps.clock.now();
    const { token, expiresAt } = await deps.sessions.create(userId, { now, ttlMs: deps.sessionTtlMs });
    deps.log.info({ openid: maskOpenid(openid) }, 'user logged in');
    return { token, expiresIn: Math.floor((expiresAt - now) / 1000) };
  };
}
