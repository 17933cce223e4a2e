import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../clock.js';
import { AppError } from '../../errors.js';
import { createRateLimiter } from '../rate-limit.js';
import { ErrorResponse } from '../schemas.js';

export interface LoginRouteDeps {
  login(code: string): Promise<{ token: string; expiresIn: number }>;
  clock: Clock;
  ratePerMinute: number;
}

export async function loginRoutes(app: FastifyInstance, deps: LoginRouteDeps): Promise<void> {
  const limiter = createRateLimiter({ limit: deps.ratePerMinute, windowMs: 60_000, clock: deps.clock });
  app.post<{ Body: { code: string } }>(
    '/api/login',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Exchange a wx.login code for a session token',
        body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Object({ token: Type.String(), expiresIn: Type.Integer() }),
          401: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const wait = limiter.hit(request.ip);
      if (wait > 0)
        throw new AppError('RATE_LIMITED', 'Too many logins from this address; slow down.', {
          retryAfter: wait,
        });
      return deps.login(request.body.code);
    },
  );
}
