import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface DemoRouteDeps {
  webRoot: string;
  config: { mode: 'demo'; simulatorUrl: string; appid: string };
}

/**
 * What a file under web/ can be called: plain segments that never start with a dot. Anything
 * else (`..`, an encoded slash or backslash, a NUL) is an attempt to leave the folder, and gets
 * the same quiet 404 as a missing file rather than the static server's 403/400 thrown as an error.
 */
const WEB_FILE = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** Demo mode: the browser demo (web/) at / and what it needs to know about the simulator. */
export async function demoRoutes(app: FastifyInstance, deps: DemoRouteDeps): Promise<void> {
  await app.register(fastifyStatic, { root: deps.webRoot, serve: false });
  app.get(
    '/demo/config.json',
    { config: { auth: 'public' }, schema: { hide: true } },
    async () => deps.config,
  );
  app.get<{ Params: { '*': string } }>(
    '/*',
    { config: { auth: 'public' }, schema: { hide: true } },
    (request, reply) => {
      const path = request.params['*'] || 'index.html';
      if (!WEB_FILE.test(path)) return reply.callNotFound();
      return reply.sendFile(path);
    },
  );
}
