import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import type { ConsoleSessions } from '../console-session.js';
import { createRateLimiter } from '../rate-limit.js';
import { ErrorResponse } from '../schemas.js';

/** web/admin/ in the package: the same relative place from src/http/routes and dist/http/routes. */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../../web/admin/', import.meta.url));
/** chart.js's dist/ folder (its UMD build is served from there: no CDN), wherever npm put it. */
const CHART_JS = dirname(createRequire(import.meta.url).resolve('chart.js'));
const CONSOLE_FILE = /^[a-z0-9-]+\.(?:js|css)$/;
/** Wrong tokens allowed per address per minute: ADMIN_TOKEN is long, this only blunts guessing. */
const SIGN_IN_ATTEMPTS_PER_MINUTE = 10;

const Session = Type.Object({
  name: Type.Union([Type.String(), Type.Null()]),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/**
 * The operator console at /admin: its page and files (public: they hold no data), and sign-in
 * with the admin token, which sets a signed session cookie (console-session.ts).
 */
export async function consoleRoutes(
  app: FastifyInstance,
  deps: { sessions: ConsoleSessions | undefined; clock: Clock },
): Promise<void> {
  await app.register(fastifyStatic, { root: [CONSOLE_ROOT, CHART_JS], serve: false });
  const limiter = createRateLimiter({
    limit: SIGN_IN_ATTEMPTS_PER_MINUTE,
    windowMs: 60_000,
    clock: deps.clock,
  });
  const hidden = { hide: true };

  app.get('/admin', { config: { auth: 'public' }, schema: hidden }, (_request, reply) =>
    reply.header('cache-control', 'no-store').sendFile('index.html', CONSOLE_ROOT),
  );
  app.get<{ Params: { file: string } }>(
    '/admin/static/:file',
    { config: { auth: 'public' }, schema: hidden },
    (request, reply) => {
      const { file } = request.params;
      if (file === 'chart.umd.min.js') return reply.sendFile(file, CHART_JS);
      if (!CONSOLE_FILE.test(file)) return reply.callNotFound();
      return reply.sendFile(file, CONSOLE_ROOT);
    },
  );

  const sessions = () => {
    if (!deps.sessions) throw new AppError('FORBIDDEN', 'The console is off: ADMIN_TOKEN is not set.');
    return deps.sessions;
  };

  app.post<{ Body: { token: string; name?: string } }>(
    '/admin/session',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Console sign-in with ADMIN_TOKEN: sets an HttpOnly, SameSite=Strict session cookie',
        body: Type.Object({
          token: Type.String({ minLength: 1, maxLength: 512 }),
          name: Type.Optional(
            Type.String({ maxLength: 32, description: 'who is signing in, recorded on resolves' }),
          ),
        }),
        response: { 200: Session, '4xx': ErrorResponse, '5xx': ErrorResponse },
      },
    },
    async (request, reply) => {
      const s = sessions();
      if (!s.sameToken(request.body.token)) {
        const wait = limiter.hit(request.ip);
        if (wait > 0)
          throw new AppError('RATE_LIMITED', 'Too many wrong tokens; wait a minute.', { retryAfter: wait });
        throw new AppError('UNAUTHORIZED', 'That is not the admin token.');
      }
      return s.start(request, reply, (request.body.name ?? '').trim());
    },
  );

  app.get(
    '/admin/session',
    {
      config: { auth: 'admin' },
      schema: {
        summary: 'Who is signed in to the console, and the X-CSRF-Token its POSTs must carry',
        security: [{ bearer: [] }],
        response: { 200: Session, '4xx': ErrorResponse },
      },
    },
    async (request) => deps.sessions?.current(request) ?? { name: null, csrfToken: null, expiresAt: null },
  );

  app.delete(
    '/admin/session',
    { config: { auth: 'public' }, schema: { summary: 'Console sign-out: clears the cookie' } },
    async (request, reply) => {
      deps.sessions?.end(request, reply);
      return reply.code(204).send();
    },
  );
}
