import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { IdempotentReply } from '../idempotency/idempotency.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The request's Idempotency-Key: undefined when absent, an AppError when malformed. `required`
 * names what needs one (a refund, a /v1 payment), so the message says why it is not optional.
 */
export function idempotencyKeyOf(request: FastifyRequest, required?: string): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined && required === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(
      'IDEMPOTENCY_KEY_INVALID',
      required === undefined
        ? 'Idempotency-Key must be 1 to 255 visible ASCII characters.'
        : `${required} needs an Idempotency-Key header of 1 to 255 visible ASCII characters (a UUID), so a retry cannot do it twice.`,
    );
  }
  return key;
}

/** Sends the engine's reply: the stored bytes, marked `Idempotent-Replayed: true` when replayed. */
export function sendIdempotent(reply: FastifyReply, result: IdempotentReply) {
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(result.status).type('application/json').send(result.body);
}
