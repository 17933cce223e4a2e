import type { FastifyInstance } from 'fastify';
import { createBillApis } from './bill.js';
import { createCertificatesApi } from './certificates.js';
import { registerV3Apis, type V3Context } from './endpoint.js';
import { createRefundApis } from './refunds.js';
import { createTransactionApis } from './transactions.js';

/**
 * WeChat Pay API v3 in the simulator: WeChat's routes (on the same port as v2) and the control
 * routes that publish and rotate the simulator's WeChat Pay keys.
 */
export function registerV3(app: FastifyInstance, ctx: V3Context): void {
  registerV3Apis(app, ctx, [
    ...createTransactionApis(ctx),
    ...createRefundApis(ctx),
    ...createBillApis(ctx),
    createCertificatesApi(ctx),
  ]);

  /** What a service needs to verify the simulator: point WECHAT_PAY_PUBLIC_KEY & co. here. */
  app.get('/sim/v3/keys', async () => {
    await ctx.keys.ready();
    return ctx.keys.published();
  });

  /** A new platform certificate; the old ones stay listed and valid until they expire. */
  app.post('/sim/v3/rotate', async (_request, reply) => {
    const cert = await ctx.keys.rotate();
    return reply.code(201).send({
      serial: cert.serial,
      pem: cert.pem,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keys: ctx.keys.published(),
    });
  });
}
