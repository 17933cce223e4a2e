import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import type { V3NotifyHandled } from '../../orders/notify-v3-service.js';
import { DEFAULT_MAX_XML_BYTES } from '../../wechat/v2/xml.js';
import { noteForLog } from '../request-log.js';

/** The same cap as the v2 notification: a real one is a few kilobytes. */
export const MAX_V3_NOTIFICATION_BYTES = DEFAULT_MAX_XML_BYTES;

/**
 * WeChat's API v3 notification. The body must reach the signature check byte for byte, so this
 * plugin registers its own parser that keeps JSON as a Buffer; no other route is affected, and
 * nothing here ever sees a parsed body. Success is 204; a refusal is the app's usual
 * `{ code, message }` with a 4xx or 5xx, which makes WeChat retry.
 */
export async function notifyV3Routes(
  app: FastifyInstance,
  deps: { handle(raw: Buffer, headers: IncomingHttpHeaders): Promise<V3NotifyHandled> },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: MAX_V3_NOTIFICATION_BYTES },
    (_req, body, done) => {
      done(null, body);
    },
  );

  app.post(
    '/payment/wxnotify/v3',
    { config: { auth: 'public' }, schema: { hide: true } },
    async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new AppError('NOTIFICATION_MALFORMED', 'The notification body is empty.');
      }
      noteForLog(request, await deps.handle(body, request.headers));
      return reply.code(204).send();
    },
  );
}
