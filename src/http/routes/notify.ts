import type { FastifyInstance } from 'fastify';
import type { NotifyOutcome } from '../../orders/notify-service.js';
import { notifyReply } from '../../wechat/v2/notify.js';
import { DEFAULT_MAX_XML_BYTES } from '../../wechat/v2/xml.js';
import { noteForLog } from '../request-log.js';

const XML_TYPES = /^(text|application)\/xml\s*(;|$)/i;

type Handler = (raw: Buffer) => Promise<NotifyOutcome>;

/**
 * WeChat's v2 payment and refund notifications. The raw-body parser is registered in this
 * plugin only, so no other route ever sees XML, and these never see a parsed body.
 */
export async function notifyRoutes(
  app: FastifyInstance,
  deps: { handle: Handler; handleRefund?: Handler },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: DEFAULT_MAX_XML_BYTES },
    (_req, body, done) => {
      done(null, body);
    },
  );
  // WeChat reads only the XML; a FAIL reply (whatever the status) makes it retry later.
  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err }, 'notification handling failed');
    noteForLog(request, { outcome: status === 413 ? 'BODY_TOO_LARGE' : 'ERROR' });
    return reply
      .code(status >= 400 ? status : 500)
      .type('text/xml')
      .send(notifyReply(false, status === 413 ? 'BODY_TOO_LARGE' : 'ERROR'));
  });

  const xmlRoute = (url: string, handle: Handler) =>
    app.post(url, { config: { auth: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const type = request.headers['content-type'] ?? '';
      if (!XML_TYPES.test(type)) {
        return reply
          .code(415)
          .type('text/xml')
          .send(notifyReply(false, 'Send Content-Type: text/xml or application/xml'));
      }
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        return reply.code(400).type('text/xml').send(notifyReply(false, 'EMPTY_BODY'));
      }
      // The reply is written only once the handler has committed what the notification says.
      const outcome = await handle(body);
      noteForLog(request, {
        outcome: outcome.outcome,
        refused: !outcome.ok,
        ...(outcome.orderId !== undefined && { orderId: outcome.orderId }),
      });
      return reply.code(200).type('text/xml').send(outcome.reply);
    });
  xmlRoute('/payment/wxnotify', deps.handle);
  if (deps.handleRefund) xmlRoute('/payment/refundnotify', deps.handleRefund);
}
