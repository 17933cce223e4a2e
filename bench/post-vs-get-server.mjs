// The floor under the notification route: a bare Fastify app with the baseline's GET / and a POST
// that takes a text/xml body and answers WeChat's SUCCESS XML, doing nothing else. Listens on
// 127.0.0.1:7799; docs/performance.md ("The cost of this machine") drives it with autocannon and
// reads its CPU time from /proc.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
app.addContentTypeParser('text/xml', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/xml', async (_req, reply) => {
  reply.type('text/xml');
  return '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
});
await app.listen({ port: 7799, host: '127.0.0.1' });
process.stdout.write(`listening, pid ${process.pid}\n`);
