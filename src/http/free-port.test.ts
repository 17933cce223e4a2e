import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from './free-port.js';

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Listens on `port` if both it and the port after it are free; undefined otherwise. */
async function holdWithNextFree(port: number): Promise<Server | undefined> {
  const held = await listen(port).catch(() => undefined);
  const next = await listen(port + 1).catch(() => undefined);
  if (next) await close(next);
  if (held && !next) await close(held);
  return held && next ? held : undefined;
}

describe('freePort', () => {
  afterEach(() => vi.restoreAllMocks());

  it('hands out ports below the range the kernel gives outgoing connections, free to listen on', async () => {
    const low = ephemeralLow();
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(10000);
      expect(port).toBeLessThan(low);
      await close(await listen(port));
    }
  });

  it('skips a port something already listens on', async () => {
    // Hold a port from the range freePort draws from, with the next one free, then make its
    // first draw land on the held port and its second on the next.
    const range = ephemeralLow() - 10000;
    let heldPort = 20011;
    let held = await holdWithNextFree(heldPort);
    while (!held) {
      heldPort += 2;
      held = await holdWithNextFree(heldPort);
    }
    const draws = [heldPort, heldPort + 1].map((port) => (port - 10000 + 0.5) / range);
    const random = vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.5);
    try {
      expect(await freePort()).toBe(heldPort + 1);
      expect(random).toHaveBeenCalledTimes(2);
    } finally {
      await close(held);
    }
  });
});
