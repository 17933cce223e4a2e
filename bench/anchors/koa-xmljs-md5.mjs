// An anchor, not the service: the stack of the original tutorial, written the way it writes it.
// Koa reads the body, xml-js turns it into an object, an MD5 signature check (the v2 default
// sign type), then one SQLite transaction per notification, committed durably before the reply
// (durable-settle.mjs).
import { createHash, timingSafeEqual } from 'node:crypto';
import Koa from 'koa';
import convert from 'xml-js';
import { canonical, openDurableSettle } from './durable-settle.mjs';

const key = process.env.WECHAT_MCH_KEY;
const file = process.env.ANCHOR_DATABASE;
if (!key || !file) throw new Error('WECHAT_MCH_KEY and ANCHOR_DATABASE are required');

const { settle, close } = openDurableSettle(file);

const reply = (ok) =>
  convert.js2xml(
    { xml: { return_code: { _cdata: ok ? 'SUCCESS' : 'FAIL' }, return_msg: { _cdata: ok ? 'OK' : 'FAIL' } } },
    { compact: true },
  );

function md5Valid(fields) {
  const expected = Buffer.from(
    createHash('md5').update(canonical(fields, key), 'utf8').digest('hex').toUpperCase(),
  );
  const given = Buffer.from(String(fields.sign ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/payment/wxnotify') {
    ctx.status = 404;
    return;
  }
  const parsed = convert.xml2js(await readBody(ctx.req), { compact: true, trim: true });
  const fields = {};
  for (const [name, node] of Object.entries(parsed.xml ?? {})) fields[name] = node._cdata ?? node._text ?? '';
  const ok = md5Valid(fields) && fields.result_code === 'SUCCESS' && settle(fields, Date.now());
  ctx.type = 'text/xml';
  ctx.body = reply(ok);
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`koa anchor listening on http://127.0.0.1:${server.address().port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => {
      close();
      process.exit(0);
    });
    server.closeIdleConnections?.();
  });
}
