import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WechatUnknownOutcomeError } from './errors.js';
import { createTransport, type Transport } from './transport.js';

const servers: Server[] = [];
const transports: Transport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const s of servers.splice(0)) s.closeAllConnections();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

// Generous by default so a loaded machine never fails a test that is not about time; the
// timeout tests pass their own short deadline.
function transport(timeoutMs = 5000, maxResponseBytes?: number): Transport {
  const t = createTransport({ timeoutMs, ...(maxResponseBytes ? { maxResponseBytes } : {}) });
  transports.push(t);
  return t;
}

async function failure(promise: Promise<unknown>): Promise<WechatUnknownOutcomeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WechatUnknownOutcomeError);
  return err as WechatUnknownOutcomeError;
}

describe('createTransport', () => {
  it('returns status, lower-case headers and the exact body bytes', async () => {
    let received = '';
    const { url } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received = `${req.method} ${req.url} ${req.headers['content-type']} ${body}`;
        res.writeHead(201, { 'X-Thing': 'a' });
        res.end(Buffer.from([0xe4, 0xb8, 0xad]));
      });
    });
    const res = await transport().request({
      method: 'POST',
      url: `${url}/pay/x?q=1`,
      headers: { 'content-type': 'text/xml' },
      body: '<xml/>',
    });
    expect(received).toBe('POST /pay/x?q=1 text/xml <xml/>');
    expect(res.status).toBe(201);
    expect(res.headers['x-thing']).toBe('a');
    expect(res.body.toString('utf8')).toBe('中');
  });

  it('reuses keep-alive connections for consecutive calls', async () => {
    const { url, server } = await listen((_, res) => res.end('ok'));
    let connections = 0;
    server.on('connection', () => connections++);
    const t = transport();
    for (let i = 0; i < 10; i++) await t.request({ method: 'GET', url });
    // undici may open a second socket while the first is being released; never one per call.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('times out when no headers arrive', async () => {
    const { url } = await listen(() => {
      /* never answers */
    });
    const err = await failure(transport(200).request({ method: 'GET', url }));
    expect(err.reason).toBe('timeout');
    expect(err.code).toBe('UNKNOWN_OUTCOME_TIMEOUT');
  });

  it('times out while the TLS handshake never completes, before the request reaches a socket', async () => {
    // A TCP listener that accepts and never answers the ClientHello: the call is still connecting
    // when the deadline passes, so it must be given up then, not when the connector gives up (10 s).
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const err = await failure(
        transport(300).request({
          method: 'GET',
          url: `https://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
        }),
      );
      expect(err.reason).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('times out when the body trickles past the deadline', async () => {
    const { url } = await listen((_, res) => {
      res.writeHead(200);
      res.write('<xml>');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const err = await failure(transport(300).request({ method: 'GET', url }));
    expect(err.reason).toBe('timeout');
  });

  it('reports a reset connection as a network failure', async () => {
    const { url } = await listen((req) => req.socket.destroy());
    expect((await failure(transport().request({ method: 'POST', url, body: 'x' }))).reason).toBe('network');
  });

  // undici refuses it through the handler's error step, not by throwing from dispatch.
  it('reports a request undici refuses to send (a header with a line break) as a failure, at once', async () => {
    const { url } = await listen((_, res) => res.end('ok'));
    const started = Date.now();
    const err = await failure(
      transport(5000).request({ method: 'GET', url, headers: { 'x-note': 'a\r\nInjected: yes' } }),
    );
    expect(err.reason).toBe('network');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a refused connection as a network failure', async () => {
    const { url, server } = await listen(() => {});
    await new Promise((resolve) => server.close(resolve));
    expect((await failure(transport().request({ method: 'GET', url }))).reason).toBe('network');
  });

  it('refuses a response over the size cap, per transport and per request', async () => {
    const { url } = await listen((_, res) => res.end('x'.repeat(10_000)));
    expect((await failure(transport(5000, 4096).request({ method: 'GET', url }))).reason).toBe('malformed');
    const big = await transport(5000, 4096).request({ method: 'GET', url, maxResponseBytes: 20_000 });
    expect(big.body.length).toBe(10_000);
  });

  it('never puts the query string (where code2Session carries the secret) in an error', async () => {
    const { url } = await listen((req) => req.socket.destroy());
    const err = await failure(
      transport().request({ method: 'GET', url: `${url}/sns/jscode2session?secret=TOPSECRET` }),
    );
    expect(err.message).toContain('/sns/jscode2session');
    expect(err.message).not.toContain('TOPSECRET');
  });
});
