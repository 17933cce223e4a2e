import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port that is free now and that the kernel will not hand out by itself, for a server whose
 * URL must be known before it listens (its notify URL goes into the config it is built with).
 *
 * Asking the kernel for port 0 and closing the socket again is not enough. Until our server
 * listens, that port is back in the ephemeral range, and any outgoing connection in the machine
 * (a database client, a fetch) may take it as its local port. Our listen then fails with
 * EADDRINUSE. That happened in our own test runs, with many processes connecting at once. So
 * the port is picked at random below the ephemeral range (`ip_local_port_range`, 32768–60999
 * unless changed), which outgoing connections and port-0 listeners never use, and checked free.
 *
 * @example
 * const port = await freePort('127.0.0.1');
 * const config = loadConfig({ WECHAT_NOTIFY_URL: `http://127.0.0.1:${port}/payment/wxnotify` });
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = reservedRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port found in ${low}–${high - 1} on ${host} after 50 tries`);
}

/** [low, high): the ports below the kernel's ephemeral range, above the well-known ones. */
function reservedRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const parsed = Number(first);
    if (Number.isInteger(parsed) && parsed > 11000) ephemeralLow = parsed;
  } catch {
    // Not Linux: 32768 is below the default range of macOS and BSD (49152) too.
  }
  return [10000, ephemeralLow];
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
