import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';

export const SESSION_COOKIE = 'weapp_pay_console';
/** A console sign-in lasts a working day. */
export const CONSOLE_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const NAME = /^[\p{L}\p{N} ._-]{0,32}$/u;

interface SessionPayload {
  sid: string;
  name: string;
  exp: number;
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Console sign-in without server-side state: the cookie holds a random session id, the name the
 * operator typed, and an expiry, signed with HMAC-SHA256 under a key derived from ADMIN_TOKEN
 * (never the token itself). Every instance can check it, and changing ADMIN_TOKEN signs everyone
 * out. The cookie is HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS.
 *
 * CSRF: besides SameSite=Strict, a request that changes something and is authenticated by the
 * cookie must carry `X-CSRF-Token` (an HMAC of the session id, handed out at sign-in and by
 * GET /admin/session), and an Origin header, when sent, must be this host.
 */
export function createConsoleSessions(adminToken: string, clock: Clock) {
  const key = createHmac('sha256', adminToken).update('weapp-pay console session v1').digest();
  const mac = (text: string) => b64(createHmac('sha256', key).update(text).digest());
  const csrfOf = (sid: string) => mac(`csrf:${sid}`);

  function read(request: FastifyRequest): SessionPayload | undefined {
    const value = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const dot = value?.indexOf('.') ?? -1;
    if (!value || dot < 1) return undefined;
    const body = value.slice(0, dot);
    if (!same(value.slice(dot + 1), mac(body))) return undefined;
    try {
      const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionPayload;
      return typeof p.exp === 'number' && p.exp > clock.now() ? p : undefined;
    } catch {
      return undefined;
    }
  }

  function cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
    const secure = request.protocol === 'https' ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
  }

  return {
    sameToken: (given: string) => same(given, adminToken),

    /** Signs in: sets the cookie and returns what the page needs (never the token). */
    start(request: FastifyRequest, reply: FastifyReply, name: string) {
      if (!NAME.test(name)) {
        throw new AppError(
          'VALIDATION_ERROR',
          'name must be up to 32 letters, digits, spaces, dots, dashes or underscores.',
        );
      }
      const payload: SessionPayload = {
        sid: b64(randomBytes(16)),
        name,
        exp: clock.now() + CONSOLE_SESSION_TTL_MS,
      };
      const body = b64(JSON.stringify(payload));
      reply.header('set-cookie', cookie(request, `${body}.${mac(body)}`, CONSOLE_SESSION_TTL_MS / 1000));
      return { name, csrfToken: csrfOf(payload.sid), expiresAt: new Date(payload.exp).toISOString() };
    },

    end(request: FastifyRequest, reply: FastifyReply) {
      reply.header('set-cookie', cookie(request, '', 0));
    },

    current(request: FastifyRequest) {
      const p = read(request);
      return p && { name: p.name, csrfToken: csrfOf(p.sid), expiresAt: new Date(p.exp).toISOString() };
    },

    /**
     * Who the cookie says is signed in, as recorded on what they do ("admin" or "admin:<name>"),
     * or undefined without a valid cookie. A state-changing request without the CSRF header or
     * from another origin is refused.
     */
    identify(request: FastifyRequest): string | undefined {
      const p = read(request);
      if (!p) return undefined;
      if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) {
          throw new AppError('FORBIDDEN', 'This request came from another site (Origin does not match).');
        }
        const given = request.headers['x-csrf-token'];
        if (typeof given !== 'string' || !same(given, csrfOf(p.sid))) {
          throw new AppError('FORBIDDEN', 'X-CSRF-Token is missing or wrong: reload the console page.');
        }
      }
      return p.name ? `admin:${p.name}` : 'admin';
    },
  };
}
