import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createBillApi } from './bill.js';
import { registerCashier } from './cashier.js';
import { createCloseOrderApi } from './close-order.js';
import {
  resolveBehaviour,
  type SimBehaviour,
  type SimLogger,
  type SimulatorOptions,
  V3_KEY_MODES,
} from './config.js';
import { registerControlRoutes } from './control-routes.js';
import { registerKnobRoutes } from './knob-routes.js';
import { registerLogin } from './login.js';
import { validateMerchants } from './merchants.js';
import { createNotifier } from './notifier.js';
import { createOrderQueryApi } from './order-query.js';
import { createRefundApi } from './refund.js';
import { createRefundQueryApi } from './refund-query.js';
import { createSimClock, type SimClock } from './sim-clock.js';
import { createSimState, type SimState } from './state.js';
import { createUnifiedOrderApi } from './unified-order.js';
import { registerV2Api } from './v2-endpoint.js';
import type { V3Context } from './v3/endpoint.js';
import { registerV3 } from './v3/index.js';
import { createV3Notifications } from './v3/notifications.js';
import { createPlatformKeys, type PlatformKeys } from './v3/platform-keys.js';

export interface ListenOptions {
  /** Plain HTTP port. Default 3100; 0 picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** HTTPS (mTLS) port, used when `tls` was configured. Default 3101, or 0 when `port` is 0. */
  tlsPort?: number;
}

export interface Simulator {
  /** The Fastify app; `app.inject()` works without listening. */
  readonly app: FastifyInstance;
  readonly clock: SimClock;
  readonly state: SimState;
  readonly behaviour: SimBehaviour;
  readonly timeScale: number;
  /** The WeChat Pay keys that sign v3 responses and notifications (`await keys.ready()` first). */
  readonly v3Keys: PlatformKeys;
  listen(options?: ListenOptions): Promise<{ url: string; tlsUrl?: string }>;
  close(): Promise<void>;
}

const silent: SimLogger = { info: () => undefined, warn: () => undefined };

/** Raw XML bodies: WeChat's wire format, not Fastify's JSON. 64 KiB is enforced by the XML parser. */
const PAY_BODY_LIMIT = 1024 * 1024;

function urlOf(host: string, port: number, scheme: 'http' | 'https'): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * A stateful fake of WeChat's login and Pay API v2 servers, on WeChat's own paths and wire
 * format, plus the /sim/ control API.
 *
 * @example
 * const sim = createSimulator({ merchants: [{ mchId: '1900000109', key, appids: [{ appid, secret }] }],
 *   clock: createSimClock({ frozen: true }) });
 * const { url } = await sim.listen({ port: 0 });
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const merchants = validateMerchants(options.merchants);
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new RangeError(`timeScale must be > 0 (got ${timeScale})`);
  if (options.v3KeyMode !== undefined && !V3_KEY_MODES.includes(options.v3KeyMode))
    throw new RangeError(`v3KeyMode must be one of ${V3_KEY_MODES.join(', ')} (got ${options.v3KeyMode})`);
  const log = options.log ?? silent;
  const ownClock = options.clock === undefined;
  const clock =
    options.clock ??
    createSimClock({ onError: (e) => log.warn(`simulator task failed: ${(e as Error).message}`) });
  const behaviour = resolveBehaviour(options.behaviour, options.tls !== undefined);
  const state = createSimState(merchants);
  const v3Keys = createPlatformKeys({
    mode: options.v3KeyMode ?? 'public-key',
    clock,
    privateKey: options.v3PrivateKey,
  });
  const v3 = createV3Notifications({ state, clock, behaviour, keys: v3Keys, log });
  const notifier = createNotifier({ state, clock, behaviour, timeScale, log, v3 });
  const ctx: V3Context = {
    keys: v3Keys,
    bills: new Map(),
    state,
    clock,
    behaviour,
    timeScale,
    notifier,
    log,
    hungSockets: new Set<Socket>(),
  };

  const app = Fastify({ logger: false, forceCloseConnections: true });
  // WeChat's answers carry its time in Date; the simulator's is the SimClock's, so a client can
  // measure its skew against a clock moved by /sim/clock/advance (`weapp-pay doctor --online`).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('date', new Date(clock.now()).toUTCString());
  });
  app.register(async (scope) => {
    // Whatever the Content-Type says, the body is handed over as bytes: WeChat judges the XML itself.
    scope.addHook('onRequest', async (request) => {
      if (request.headers['content-type'] !== undefined) request.headers['content-type'] = 'application/xml';
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PAY_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    for (const api of [
      createUnifiedOrderApi(ctx),
      createOrderQueryApi(ctx),
      createCloseOrderApi(ctx),
      createRefundApi(ctx),
      createRefundQueryApi(ctx),
      createBillApi(ctx),
    ]) {
      registerV2Api(scope, ctx, api);
    }
  });
  registerV3(app, ctx);
  registerLogin(app, ctx);
  registerControlRoutes(app, ctx);
  registerKnobRoutes(app, ctx);
  registerCashier(app, ctx);

  let https: HttpsServer | undefined;

  return {
    app,
    clock,
    state,
    behaviour,
    timeScale,
    v3Keys,
    async listen({ port = 3100, host = '127.0.0.1', tlsPort } = {}) {
      await app.listen({ port, host });
      const url = urlOf(host, (app.server.address() as AddressInfo).port, 'http');
      if (!options.tls) return { url };
      const { cert, key, ca } = options.tls;
      // One app, two listeners: the HTTPS one asks for a client certificate and the refund
      // route decides (rejectUnauthorized is off so the refusal is WeChat's XML, not a TLS alert).
      const server = createHttpsServer(
        { cert, key, ca, requestCert: true, rejectUnauthorized: false },
        (req, res) => app.routing(req, res),
      );
      https = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tlsPort ?? (port === 0 ? 0 : 3101), host, () => resolve());
      });
      return { url, tlsUrl: urlOf(host, (server.address() as AddressInfo).port, 'https') };
    },
    async close() {
      if (ownClock) clock.close();
      else clock.clear();
      for (const socket of ctx.hungSockets) socket.destroy();
      if (https) {
        const server = https;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await app.close();
      await notifier.close();
    },
  };
}
