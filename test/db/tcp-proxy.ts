/**
 * A TCP proxy on 127.0.0.1 for fault tests: it forwards to a real server until told to stop
 * answering (freeze) or to drop every connection at once (as a server restart does).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections open now stop forwarding in both directions, silently; new ones work. */
  freeze(): void;
  /** Destroys every open connection, as a restarting server would. */
  resetAll(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  const server = createServer((client) => {
    const pair = { client, upstream: connect(target.port, target.host), frozen: false };
    pairs.add(pair);
    client.on('data', (chunk) => pair.frozen || pair.upstream.write(chunk));
    pair.upstream.on('data', (chunk) => pair.frozen || client.write(chunk));
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream.destroy();
    };
    client.on('close', drop).on('error', drop);
    pair.upstream.on('close', drop).on('error', drop);
  });
  const port = await listen(server);
  return {
    port,
    freeze: () => {
      for (const pair of pairs) pair.frozen = true;
    },
    resetAll: () => {
      for (const pair of pairs) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts connections and never says a word: a host that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      resolve(address.port);
    });
  });
}
