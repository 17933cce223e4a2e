/**
 * A plain HTTP forwarder that counts the requests passing through it by method and path (query
 * left out). Put in front of the simulator's Pay API, it shows what the service asked WeChat,
 * from the wire, without trusting the service's own logs: how many times it downloaded
 * `GET /v3/certificates`, for instance. Bodies and headers go through untouched, so signatures
 * still verify.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  url: string;
  /** Requests seen so far for `METHOD /path`, e.g. `count('GET /v3/certificates')`. */
  count(route: string): number;
  /** Points the proxy at its upstream (until then, requests get 502). */
  forwardTo(upstreamUrl: string): void;
  close(): Promise<void>;
}

export async function startCountingProxy(): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  let upstream: URL | undefined;
  const server = createServer((req, res) => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    counts.set(route, (counts.get(route) ?? 0) + 1);
    if (!upstream) {
      res.writeHead(502).end();
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: (route) => counts.get(route) ?? 0,
    forwardTo(upstreamUrl) {
      upstream = new URL(upstreamUrl);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
