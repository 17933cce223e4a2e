import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface DemoRouteDeps {
  webRoot: string;
  config: { mode: 'demo'; simulatorUrl: string; appid: string };
}

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
      const path = request.params['*'];
      return reply.sendFile(path === '' ? 'index.html' : path);
    },
  );
}
