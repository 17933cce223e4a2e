import { inspect } from 'node:util';
import { type LoginErrorCode, WechatLoginError, WechatUnknownOutcomeError } from '../errors.js';
import { createTransport, type Transport } from '../transport.js';

/**
 * code2Session (《小程序登录》, auth.code2Session): exchanges a `wx.login` code for the user's openid.
 * Version-neutral: Pay API v2 and v3 share it.
 *
 * The AppSecret travels in the query string, so it never appears in an error message (the
 * transport names origin and path only) and `session_key` stays inside {@link LoginSession},
 * out of reach of JSON.stringify, util.inspect and loggers.
 */

/**
 * The result of a successful exchange. `sessionKey()` is the only way to read the session key;
 * serialising or inspecting the object shows openid and unionid only.
 */
export class LoginSession {
  readonly openid: string;
  readonly unionid: string | undefined;
  readonly #sessionKey: string;

  constructor(openid: string, sessionKey: string, unionid?: string) {
    this.openid = openid;
    this.unionid = unionid;
    this.#sessionKey = sessionKey;
  }

  /** Base64 of 16 bytes. Keep it server-side: it decrypts the user's data. */
  sessionKey(): string {
    return this.#sessionKey;
  }

  toJSON(): { openid: string; unionid?: string } {
    return this.unionid === undefined
      ? { openid: this.openid }
      : { openid: this.openid, unionid: this.unionid };
  }

  [inspect.custom](): string {
    return `LoginSession ${inspect(this.toJSON())}`;
  }
}

export interface LoginClientOptions {
  /** Default `https://api.weixin.qq.com`; the simulator's URL in demo mode and tests. */
  baseUrl?: string;
  appid: string;
  secret: string;
  /** Default 5000 ms. */
  timeoutMs?: number;
  transport?: Transport;
}

export interface LoginClient {
  /** @throws {WechatLoginError} INVALID_CODE | RATE_LIMITED | USER_BLOCKED | UPSTREAM_RETRYABLE | CONFIG */
  code2Session(code: string): Promise<LoginSession>;
  close(): Promise<void>;
}

const ERRCODES: Readonly<Record<number, LoginErrorCode>> = {
  [-1]: 'UPSTREAM_RETRYABLE',
  40029: 'INVALID_CODE',
  40163: 'INVALID_CODE',
  45011: 'RATE_LIMITED',
  40226: 'USER_BLOCKED',
  40013: 'CONFIG',
  40125: 'CONFIG',
  41002: 'CONFIG',
  41004: 'CONFIG',
  41008: 'CONFIG',
};

/**
 * @example
 * const login = createLoginClient({ appid: 'wx1234567890abcdef', secret: env.WECHAT_SECRET });
 * const session = await login.code2Session(code); // session.openid; session.sessionKey() server-side only
 */
export function createLoginClient(options: LoginClientOptions): LoginClient {
  const baseUrl = (options.baseUrl ?? 'https://api.weixin.qq.com').replace(/\/+$/, '');
  const transport = options.transport ?? createTransport({ timeoutMs: options.timeoutMs ?? 5000 });
  const scrub = (text: string): string => (options.secret ? text.replaceAll(options.secret, '***') : text);

  async function code2Session(code: string): Promise<LoginSession> {
    // A code is a short opaque token; anything else is the caller's junk, not WeChat's business.
    if (typeof code !== 'string' || code === '' || code.length > 128 || /[^\x21-\x7e]/.test(code)) {
      throw new WechatLoginError('INVALID_CODE', 'the login code is empty or not a code');
    }
    const query = new URLSearchParams({
      appid: options.appid,
      secret: options.secret,
      js_code: code,
      grant_type: 'authorization_code',
    });
    let body: unknown;
    try {
      const res = await transport.request({ method: 'GET', url: `${baseUrl}/sns/jscode2session?${query}` });
      if (res.status !== 200)
        throw new WechatLoginError('UPSTREAM_RETRYABLE', `code2Session answered HTTP ${res.status}`);
      // Parse whatever the Content-Type says: WeChat has been seen answering JSON as text/plain.
      body = JSON.parse(res.body.toString('utf8'));
    } catch (err) {
      if (err instanceof WechatLoginError) throw err;
      const detail = err instanceof WechatUnknownOutcomeError ? err.reason : 'response is not JSON';
      throw new WechatLoginError('UPSTREAM_RETRYABLE', `code2Session failed (${detail})`, undefined, {
        cause: err,
      });
    }
    return toSession(body, scrub);
  }

  return {
    code2Session,
    close: () => (options.transport ? Promise.resolve() : transport.close()),
  };
}

function toSession(body: unknown, scrub: (text: string) => string): LoginSession {
  if (typeof body !== 'object' || body === null) {
    throw new WechatLoginError('UPSTREAM_RETRYABLE', 'code2Session response is not a JSON object');
  }
  const { errcode, errmsg, openid, session_key, unionid } = body as Record<string, unknown>;
  if (errcode !== undefined && errcode !== 0) {
    const code = typeof errcode === 'number' ? errcode : Number.NaN;
    const mapped = ERRCODES[code] ?? 'CONFIG';
    const text = typeof errmsg === 'string' ? scrub(errmsg) : '';
    throw new WechatLoginError(mapped, `code2Session errcode ${String(errcode)}: ${text}`.trim(), code);
  }
  if (typeof openid !== 'string' || openid === '' || typeof session_key !== 'string' || session_key === '') {
    throw new WechatLoginError('UPSTREAM_RETRYABLE', 'code2Session response lacks openid or session_key');
  }
  return new LoginSession(
    openid,
    session_key,
    typeof unionid === 'string' && unionid !== '' ? unionid : undefined,
  );
}
