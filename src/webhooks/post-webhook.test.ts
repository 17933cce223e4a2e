import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERER_SETTINGS } from './deliverer.js';
import { postWebhook, RESPONSE_KEPT_BYTES } from './post-webhook.js';

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const post = (url: string, timeoutMs = 5000) =>
  postWebhook({ url, body: '{"id":"evt_1"}', headers: { 'content-type': 'application/json' }, timeoutMs });

describe('postWebhook', () => {
  it('sends the body and headers, and keeps a short answer whole', async () => {
    let seen = '';
    const url = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen = `${req.method} ${req.url} ${req.headers['content-type']} ${body}`;
        res.end('thanks');
      });
    });
    const result = await post(url);
    expect(seen).toBe('POST /hook application/json {"id":"evt_1"}');
    expect(result).toMatchObject({ ok: true, statusCode: 200, responseBody: 'thanks', error: null });
  });

  it("gives each of the deliverer's slots a connection of its own, so none waits behind another", async () => {
    const slots = DEFAULT_DELIVERER_SETTINGS.maxConcurrent;
    // The receiver answers nobody until every POST has reached it: a POST queued behind another
    // for want of a socket would never arrive, and all of them would time out.
    const waiting: (() => void)[] = [];
    const url = await listen((_req, res) => {
      waiting.push(() => res.end('ok'));
      if (waiting.length === slots) for (const answer of waiting.splice(0)) answer();
    });
    const results = await Promise.all(Array.from({ length: slots }, () => post(url, 3000)));
    expect(results.filter((r) => r.ok)).toHaveLength(slots);
  });

  it('keeps the first 1 KB of an endless answer and does not wait for the rest', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('y'.repeat(400)), 10);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const result = await post(url, 5000);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(result.ok).toBe(true);
    expect(result.responseBody).toBe('y'.repeat(RESPONSE_KEPT_BYTES));
  });

  it('counts a 2xx whose body outlasts the time limit as delivered, without the body', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(202);
      res.write('a');
    });
    const result = await post(url, 300);
    expect(result).toMatchObject({ ok: true, statusCode: 202, responseBody: null, error: null });
  });

  it('reports no answer within the time limit, and a refused connection by its code', async () => {
    const silent = await listen(() => {});
    expect(await post(silent, 300)).toMatchObject({
      ok: false,
      statusCode: null,
      error: 'no answer within 0.3 s',
    });
    const closed = await listen(() => {});
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    expect(await post(closed)).toMatchObject({ ok: false, statusCode: null, error: 'ECONNREFUSED' });
  });

  it('answers a non-2xx with its status as the error', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(410);
      res.end('gone');
    });
    expect(await post(url)).toMatchObject({
      ok: false,
      statusCode: 410,
      responseBody: 'gone',
      error: 'HTTP 410',
    });
  });
});
