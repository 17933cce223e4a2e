import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The two files of swagger-ui-dist the viewer needs, served from node_modules: no CDN, works offline. */
const VIEWER_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js']);
const swaggerUiRoot = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/**
 * The API reference. The page and Swagger UI's files are public: they hold no route, no schema and
 * no secret. The OpenAPI document itself, `/docs/json`, is admin-only like before. A browser
 * cannot put a Bearer header on a page it navigates to, so the page asks for the admin token, keeps
 * it in this tab's sessionStorage only, and sends it as `Authorization: Bearer` when it fetches
 * the document (and on "Try it out" calls).
 */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: swaggerUiRoot, serve: false });

  app.get('/docs', { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(VIEWER_PAGE),
  );

  app.get<{ Params: { file: string } }>(
    '/docs/static/:file',
    { config: { auth: 'public' }, schema: { hide: true } },
    (request, reply) =>
      VIEWER_FILES.has(request.params.file) ? reply.sendFile(request.params.file) : reply.callNotFound(),
  );

  app.get(
    '/docs/json',
    { config: { auth: 'admin' }, schema: { summary: 'This OpenAPI document', hide: true } },
    async (_req, reply) => reply.header('cache-control', 'no-store').send(app.swagger()),
  );
}

const VIEWER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>weapp-pay API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
<style>
  body { margin: 0; font-family: system-ui, sans-serif; }
  #token-form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; padding: 12px 20px;
    background: #1f2937; color: #f9fafb; }
  #token-form input { flex: 1; min-width: 16em; padding: 6px 8px; font: inherit; }
  #token-form button { padding: 6px 14px; font: inherit; }
  #token-status { width: 100%; font-size: 0.9em; color: #fca5a5; }
</style>
</head>
<body>
<form id="token-form" autocomplete="off">
  <label for="admin-token">Admin token</label>
  <input id="admin-token" type="password" placeholder="ADMIN_TOKEN" required>
  <button type="submit">Show the API</button>
  <span id="token-status" role="status"></span>
</form>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>
  const KEY = 'weapp-pay-admin-token';
  const form = document.getElementById('token-form');
  const input = document.getElementById('admin-token');
  const status = document.getElementById('token-status');
  function show(token) {
    status.textContent = '';
    SwaggerUIBundle({
      url: '/docs/json',
      dom_id: '#swagger-ui',
      requestInterceptor(req) {
        req.headers.Authorization = 'Bearer ' + token;
        return req;
      },
      responseInterceptor(res) {
        if (res.url.endsWith('/docs/json') && res.status === 401) {
          sessionStorage.removeItem(KEY);
          status.textContent = 'That token was refused (401). Enter the service\\'s ADMIN_TOKEN.';
        }
        return res;
      },
    });
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, input.value);
    show(input.value);
  });
  const saved = sessionStorage.getItem(KEY);
  if (saved) show(saved);
</script>
</body>
</html>
`;
