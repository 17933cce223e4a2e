// A diagnostic, not the service: the service's own notification route (dist/http/routes/notify.js,
// same raw-body parser, same pino logger at warn) whose handler only verifies the XML and its
// signature and answers SUCCESS, with no database. Its throughput is the ceiling the service's
// notification could reach if storage cost nothing: HTTP + Fastify + XML + HMAC.
import Fastify from 'fastify';
import { notifyRoutes } from '../dist/http/routes/notify.js';
import { createLogger } from '../dist/observability/logger.js';
import { notifyReply, verifyPaymentNotification } from '../dist/wechat/v2/notify.js';

const key = process.env.WECHAT_MCH_KEY;
if (!key) throw new Error('WECHAT_MCH_KEY is required');
const SUCCESS = notifyReply(true);
const app = Fastify({ loggerInstance: createLogger('warn') });
await app.register(notifyRoutes, {
  async handle(raw) {
    verifyPaymentNotification(raw, { key, signType: 'HMAC-SHA256' });
    return { ok: true, reply: SUCCESS, outcome: 'paid' };
  },
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`notify-nodb listening on ${address}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
