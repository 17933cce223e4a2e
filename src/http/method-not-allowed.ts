import type { FastifyInstance, FastifyRequest } from 'fastify';

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * Remembers every route as it is registered, so a request for a known path with the wrong method
 * can be told which methods the path takes (405 with `Allow`) instead of "no such route". It is
 * fed by Fastify's onRoute hook, so a new route is covered without anyone listing it. Wildcard
 * routes (the demo's static files) are a file tree, not a path, and are left out.
 *
 * @example
 * const allowed = trackAllowedMethods(app);
 * allowed(request); // ['GET', 'HEAD'] for DELETE /api/orders/abc, [] for /nowhere
 */
export function trackAllowedMethods(app: FastifyInstance): (request: FastifyRequest) => string[] {
  const paths = new Map<string, KnownPath>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    const known = paths.get(route.url) ?? { pattern: toPattern(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) known.methods.add(method);
    paths.set(route.url, known);
  });
  return (request) => {
    const path = request.url.split('?')[0] ?? '';
    const methods = new Set<string>();
    for (const known of paths.values()) {
      if (known.pattern.test(path)) for (const m of known.methods) methods.add(m);
    }
    return [...methods].sort();
  };
}

/** `/api/orders/:id/sync` → `^/api/orders/[^/]+/sync/?$` (Fastify ignores one trailing slash). */
function toPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}
