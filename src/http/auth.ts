import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyCaller } from '../api-keys/api-keys.js';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';

/**
 * Every route declares who may call it in `config.auth`; a route without one is refused at
 * start-up, so a new route can never be public by accident.
 */
export type RouteAuth = 'public' | 'user' | 'admin' | 'apikey';

export interface AuthedUser {
  id: string;
  openid: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    user: AuthedUser | null;
    /** On admin routes: "admin" (the Bearer token) or "admin:<name>" (a console session). */
    admin: string | null;
    /** On /v1 routes: the API key's id and name (never the key). */
    apiKey: ApiKeyCaller | null;
  }
  interface FastifyInstance {
    /** Every route with its declared audience, for the security test that walks every route. */
    routeTable: { method: string; url: string; auth: RouteAuth }[];
  }
}

export interface AuthDeps {
  clock: Clock;
  /** The live session behind a token with its user's openid (one look-up), or null. */
  sessions: { resolve(token: string, now: number): Promise<{ userId: string; openid: string } | null> };
  adminToken: string | undefined;
  /** The console's cookie sign-in (console-session.ts); admin routes accept it instead of the token. */
  consoleSessions?: { identify(request: FastifyRequest): string | undefined };
  /** Checks a /v1 API key (src/api-keys/api-keys.ts); throws a 401 AppError that says what is wrong. */
  apiKeys: { authenticate(key: string): Promise<ApiKeyCaller> };
}

/**
 * The token from `Authorization: Bearer <token>`. A header that is there but not in that shape
 * (a bare token, `Token x`, `bearer:x`) is refused with a message that says what to send, since
 * "missing or expired" would send the caller looking in the wrong place.
 */
function bearer(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (match) return match[1];
  reply.header('www-authenticate', 'Bearer');
  throw new AppError(
    'UNAUTHORIZED',
    /^Bearer /.test(header)
      ? 'The token after "Bearer " must be 1 to 512 visible ASCII characters.'
      : 'The Authorization header must read "Bearer <token>": the "Bearer " prefix is missing.',
  );
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  /** The /v1 hook: only an API key opens these routes, never a session or the admin token. */
  async function authenticateApiKey(token: string | undefined, reply: FastifyReply): Promise<ApiKeyCaller> {
    try {
      if (token === undefined) {
        throw new AppError('UNAUTHORIZED', 'An API key is required: Authorization: Bearer wpk_…');
      }
      return await deps.apiKeys.authenticate(token);
    } catch (err) {
      reply.header('www-authenticate', 'Bearer');
      throw err;
    }
  }

  app.decorateRequest('user', null);
  app.decorateRequest('admin', null);
  app.decorateRequest('apiKey', null);
  const routeTable: FastifyInstance['routeTable'] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const auth = route.config?.auth;
    if (auth !== 'public' && auth !== 'user' && auth !== 'admin' && auth !== 'apikey') {
      throw new Error(
        `route ${route.method} ${route.url} must declare config.auth (public, user, admin or apikey)`,
      );
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, auth });
    }
  });
  // onRequest, before the body is even parsed: an anonymous caller learns nothing about validation.
  app.addHook('onRequest', async (request, reply) => {
    const auth = request.routeOptions.config.auth;
    if (auth === 'public' || auth === undefined) return;
    const token = bearer(request, reply);
    if (auth === 'apikey') {
      request.apiKey = await authenticateApiKey(token, reply);
      // Every line this request logs names the key's id; the key itself is never logged.
      const log = request.log.child({ apiKeyId: request.apiKey.id });
      request.log = log;
      reply.log = log;
      log.info({ method: request.method, url: request.url }, 'server API request');
      return;
    }
    if (auth === 'admin') {
      const viaCookie = token === undefined ? deps.consoleSessions?.identify(request) : undefined;
      if (viaCookie !== undefined) {
        request.admin = viaCookie;
        return;
      }
      if (deps.adminToken !== undefined && token !== undefined && sameSecret(token, deps.adminToken)) {
        request.admin = 'admin';
        return;
      }
      if (token !== undefined && (await deps.sessions.resolve(token, deps.clock.now()))) {
        throw new AppError('FORBIDDEN', 'This route is for administrators.');
      }
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'An admin token is required (Authorization: Bearer <ADMIN_TOKEN>).');
    }
    const session = token === undefined ? null : await deps.sessions.resolve(token, deps.clock.now());
    if (!session) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'Log in first: the session token is missing, expired or revoked.');
    }
    request.user = { id: session.userId, openid: session.openid };
  });
}
