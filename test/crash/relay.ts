/**
 * A small HTTP relay on port 0, standing where a load balancer (in front of the service) or the
 * network (in front of WeChat) would. It gives the crash runs three things: one stable URL
 * while service instances die and come back on new ports, round-robin over the live
 * instances, and a tap on every exchange, so a kill can be fired at an exact moment ("right
 * after the 7th SUCCESS reply left the service").
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface Exchange {
  method: string;
  path: string;
  /** The request as received, for taps that need to know what was asked. */
  requestHeaders: IncomingHttpHeaders;
  requestBody: string;
  /** The upstream's answer; status 502 with an empty body when no upstream answered. */
  status: number;
  body: string;
}

export interface Relay {
  url: string;
  /** Where requests go, taken in turn; with none, every request gets a 502. */
  setUpstreams(urls: readonly string[]): void;
  /** Called when a request arrives, before it is forwarded. */
  onRequest(listener: (path: string) => void): void;
  /** Called when the upstream's answer is complete, before it is passed back; returns its removal. */
  onExchange(listener: (exchange: Exchange) => void): () => void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);
const PASSED_BACK = ['content-type', 'idempotent-replayed', 'retry-after'];

export async function startRelay(options: { latencyMs?: () => number } = {}): Promise<Relay> {
  const agent = new Agent({ keepAliveTimeout: 1000, connections: 64 });
  let upstreams: readonly string[] = [];
  let turn = 0;
  const requestListeners: ((path: string) => void)[] = [];
  const exchangeListeners: ((exchange: Exchange) => void)[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const path = req.url ?? '/';
      const method = req.method ?? 'GET';
      const requestBody = Buffer.concat(chunks);
      for (const listener of requestListeners) listener(path);
      const latency = options.latencyMs?.() ?? 0;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const exchange: Exchange = {
        method,
        path,
        requestHeaders: req.headers,
        requestBody: requestBody.toString('utf8'),
        status: 502,
        body: '',
      };
      const headers: Record<string, string> = {};
      const target = upstreams.length > 0 ? upstreams[turn++ % upstreams.length] : undefined;
      if (target !== undefined) {
        const forwarded = Object.fromEntries(
          Object.entries(req.headers).filter(([name, value]) => !HOP_BY_HOP.has(name) && value !== undefined),
        ) as Record<string, string>;
        try {
          const answer = await request(`${target}${path}`, {
            method: method as 'GET',
            headers: forwarded,
            dispatcher: agent,
            ...(requestBody.length > 0 ? { body: requestBody } : {}),
          });
          exchange.body = await answer.body.text();
          exchange.status = answer.statusCode;
          for (const name of PASSED_BACK) {
            const value = answer.headers[name];
            if (typeof value === 'string') headers[name] = value;
          }
        } catch {
          // The upstream died mid-request (or was never there): what a load balancer says.
          exchange.status = 502;
          exchange.body = '';
        }
      }
      for (const listener of exchangeListeners) listener(exchange);
      res.writeHead(exchange.status, headers).end(exchange.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setUpstreams(urls) {
      upstreams = [...urls];
    },
    onRequest(listener) {
      requestListeners.push(listener);
    },
    onExchange(listener) {
      exchangeListeners.push(listener);
      return () => {
        const i = exchangeListeners.indexOf(listener);
        if (i >= 0) exchangeListeners.splice(i, 1);
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.destroy();
    },
  };
}
