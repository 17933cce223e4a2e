/**
 * A proxy in front of the shop's webhook route, standing in for the network and load balancer
 * between weapp-pay and the shop. For each event it follows a plan, one step per attempt:
 * `down` answers 503 without reaching the shop (the shop is restarting); `lost` forwards to the
 * shop but answers weapp-pay 500 (the shop applied it, the answer never arrived); after the
 * plan, every attempt is forwarded and answered as the shop answered.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step = 'down' | 'lost';

export interface Attempt {
  eventId: string;
  step: Step | 'forwarded';
  /** What weapp-pay was answered. */
  status: number;
  /** The shop's answer, when the attempt reached it. */
  shop?: { status: number; body: string };
}

export interface FlakyProxy {
  url: string;
  /** The shop's base URL, set once it listens. */
  target: string;
  attempts: Attempt[];
  /** The plan for the next event to arrive. */
  planNext(steps: Step[]): void;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

export async function startFlakyProxy(): Promise<FlakyProxy> {
  let nextPlan: Step[] = [];
  const plans = new Map<string, Step[]>();
  const proxy: FlakyProxy = {
    url: '',
    target: '',
    attempts: [],
    planNext: (steps) => {
      nextPlan = steps;
    },
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const eventId = String((JSON.parse(body.toString('utf8')) as { id?: string }).id);
    if (!plans.has(eventId)) {
      plans.set(eventId, nextPlan);
      nextPlan = [];
    }
    const step = plans.get(eventId)!.shift();
    if (step === 'down') {
      proxy.attempts.push({ eventId, step, status: 503 });
      return res.writeHead(503).end('shop unavailable');
    }
    const forwarded = await fetch(`${proxy.target}${req.url}`, {
      method: 'POST',
      headers: {
        'content-type': String(req.headers['content-type']),
        'weapp-pay-signature': String(req.headers['weapp-pay-signature']),
      },
      body,
    });
    const shop = { status: forwarded.status, body: await forwarded.text() };
    const status = step === 'lost' ? 500 : shop.status;
    proxy.attempts.push({ eventId, step: step ?? 'forwarded', status, shop });
    res
      .writeHead(status, { 'content-type': 'text/plain' })
      .end(step === 'lost' ? 'gateway error' : shop.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
