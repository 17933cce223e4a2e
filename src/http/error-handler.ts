import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorCode } from '../errors.js';
import { WechatRejectedError, WechatRetryableError, WechatUnknownOutcomeError } from '../wechat/errors.js';
import { trackAllowedMethods } from './method-not-allowed.js';
import { noteForLog } from './request-log.js';

/** Fastify's own error codes that are the client's fault, and what we call them. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
  FST_ERR_BAD_URL: 'VALIDATION_ERROR',
};

/**
 * Fastify answers a URL it cannot decode (`/%E0%A4%A`) before any route or error handler runs;
 * this gives that answer our `{ code, message }` shape too. Passed as Fastify's `frameworkErrors`.
 */
export function frameworkErrorReply(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorResponse(err);
  noteForLog(request, { outcome: body.code });
  return reply
    .code(status)
    .send(
      err.code === 'FST_ERR_BAD_URL'
        ? { ...body, message: 'The URL is not valid percent-encoding: encode each byte as %XX.' }
        : body,
    );
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Maps any thrown error to a status and a `{ code, message }` body. Never leaks internals. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; retryAfter?: number } {
  if (err instanceof AppError) {
    const out = { status: ERROR_STATUS[err.code], body: { code: err.code, message: err.message } };
    return err.retryAfter === undefined ? out : { ...out, retryAfter: err.retryAfter };
  }
  if (err instanceof WechatRetryableError || err instanceof WechatUnknownOutcomeError) {
    return {
      status: 503,
      body: { code: 'UPSTREAM_UNAVAILABLE', message: 'WeChat did not answer usefully; try again shortly.' },
      retryAfter: 2,
    };
  }
  if (err instanceof WechatRejectedError) {
    return {
      status: 502,
      body: { code: 'PAYMENT_REJECTED', message: `WeChat refused the call (${err.failure.errCode}).` },
    };
  }
  const fastify = err as Partial<FastifyError>;
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      status: ERROR_STATUS.UNSUPPORTED_MEDIA_TYPE,
      body: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Send the body as JSON with the header Content-Type: application/json.',
      },
    };
  }
  const mapped = (fastify.validation ? 'VALIDATION_ERROR' : undefined) ?? FASTIFY_CODES[fastify.code ?? ''];
  if (mapped)
    return { status: ERROR_STATUS[mapped], body: { code: mapped, message: fastify.message ?? mapped } };
  return { status: 500, body: { code: 'INTERNAL', message: 'Internal error. It has been logged.' } };
}

export function registerErrorHandler(app: FastifyInstance): void {
  const allowedMethods = trackAllowedMethods(app);
  app.setErrorHandler((err, request, reply) => {
    const { status, body, retryAfter } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    noteForLog(request, { outcome: body.code });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request);
    // A route that itself answers "not found" (a missing file, say) is a 404 whatever the path.
    if (allowed.length === 0 || allowed.includes(request.method))
      throw new AppError('NOT_FOUND', 'No such route.');
    reply.header('allow', allowed.join(', '));
    throw new AppError(
      'METHOD_NOT_ALLOWED',
      `${request.method} is not allowed here; this path takes ${allowed.join(', ')}.`,
    );
  });
}
