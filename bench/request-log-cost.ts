/**
 * `node --import tsx bench/request-log-cost.ts [ROUNDS]`: what the request log (GET /admin/logs)
 * costs each request. The same bare route is served with and without the log's onResponse hook,
 * in turns (ABAB…, so a machine that gets busier hurts both alike), each under the same load;
 * prints the server CPU per request of each run and the medians. Then the hook's own work, timed
 * alone in a loop (steadier than a load test on a busy machine).
 */
import { fileURLToPath } from 'node:url';
import { recordResponse } from '../src/http/request-log.js';
import { createLogRing } from '../src/observability/log-ring.js';
import { runLoad } from './load.js';
import { startListening } from './processes.js';

const SERVER = fileURLToPath(new URL('./request-log-server.ts', import.meta.url));
const rounds = Number(process.argv[2] ?? 4);
const cpu: Record<'without' | 'with', number[]> = { without: [], with: [] };

for (let round = 1; round <= rounds; round++) {
  for (const variant of ['without', 'with'] as const) {
    const args = ['--import', 'tsx', SERVER, ...(variant === 'with' ? ['--log'] : [])];
    const server = await startListening(
      args,
      { PATH: process.env.PATH, NODE_ENV: 'production' },
      /(http:\/\/\S+)/,
    );
    try {
      const load = { url: `${server.url}/api/orders/o-1`, connections: 20 };
      await runLoad({ ...load, durationS: 1 }); // warm-up: JIT, connections
      const measured = await runLoad({ ...load, server, durationS: 4 });
      cpu[variant].push(measured.serverCpuUsPerRequest ?? Number.NaN);
      process.stdout.write(
        `round ${round} ${variant.padEnd(7)} the log: ${measured.rps.toFixed(0)} req/s, ` +
          `server CPU ${measured.serverCpuUsPerRequest?.toFixed(1)} µs/req\n`,
      );
    } finally {
      await server.stop();
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const without = median(cpu.without);
const withLog = median(cpu.with);
process.stdout.write(
  `median server CPU: ${without.toFixed(1)} µs/req without the log, ${withLog.toFixed(1)} µs/req with it ` +
    `(${(withLog - without).toFixed(1)} µs/req, ${(((withLog - without) / without) * 100).toFixed(1)} %)\n`,
);

// The hook alone: a million entries into a ring of the service's size, half of them naming an order.
const ring = createLogRing();
const reply = { statusCode: 200, elapsedTime: 1.234 };
const requests = [
  {
    url: '/api/orders/4b1c5a9e?x=1',
    method: 'GET',
    params: { id: '4b1c5a9e' },
    logNote: null,
    routeOptions: { url: '/api/orders/:id' },
  },
  {
    url: '/payment/wxnotify',
    method: 'POST',
    params: {},
    logNote: { outcome: 'paid', orderId: 'o1' },
    routeOptions: { url: '/payment/wxnotify' },
  },
];
const calls = 1_000_000;
for (let i = 0; i < 100_000; i++) recordResponse(ring, requests[i % 2]!, reply); // warm-up
const started = process.hrtime.bigint();
for (let i = 0; i < calls; i++) recordResponse(ring, requests[i % 2]!, reply);
const ns = Number(process.hrtime.bigint() - started) / calls;
process.stdout.write(`the hook alone: ${ns.toFixed(0)} ns per request (${calls} calls)\n`);
