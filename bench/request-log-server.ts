// A bare Fastify route, with (--log) or without the service's request log hook: the two halves
// of bench/request-log-cost.ts. Run with `node --import tsx`.
import Fastify from 'fastify';
import { registerRequestLog } from '../src/http/request-log.js';
import { createLogRing } from '../src/observability/log-ring.js';

const app = Fastify({ logger: false });
if (process.argv.includes('--log')) registerRequestLog(app, createLogRing());
app.get('/api/orders/:id', async () => ({ hello: 'world' }));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening on ${address}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
