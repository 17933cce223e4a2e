// An anchor, not the service: a plain Fastify handler as a careful engineer would write it in an
// afternoon. fast-xml-parser, an HMAC-SHA256 signature check, then one SQLite transaction per
// notification committed durably before the reply (durable-settle.mjs). No group commit, no logger.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import Fastify from 'fastify';
import { canonical, openDurableSettle } from './durable-settle.mjs';

const key = process.env.WECHAT_MCH_KEY;
const file = process.env.ANCHOR_DATABASE;
if (!key || !file) throw new Error('WECHAT_MCH_KEY and ANCHOR_DATABASE are required');

const { settle, close } = openDurableSettle(file);

// Every value as a string: WeChat's fields are text, and "0001" must stay "0001" for the signature.
const parser = new XMLParser({ parseTagValue: false, trimValues: true });
const reply = (ok) =>
  `<xml><return_code><![CDATA[${ok ? 'SUCCESS' : 'FAIL'}]]></return_code><return_msg><![CDATA[${ok ? 'OK' : 'FAIL'}]]></return_msg></xml>`;

function hmacValid(fields) {
  const expected = Buffer.from(
    createHmac('sha256', key).update(canonical(fields, key), 'utf8').digest('hex').toUpperCase(),
  );
  const given = Buffer.from(String(fields.sign ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const app = Fastify({ logger: false });
app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_req, body, done) => {
  done(null, body);
});
app.post('/payment/wxnotify', async (request, replyTo) => {
  const fields = parser.parse(request.body).xml ?? {};
  const ok = hmacValid(fields) && fields.result_code === 'SUCCESS' && settle(fields, Date.now());
  replyTo.type('text/xml');
  return reply(ok);
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`fastify anchor listening on ${address}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => {
      close();
      process.exit(0);
    });
  });
}
