// Preloaded into the service (`node --import`) by the soak run: every BENCH_PROBE_INTERVAL_MS it
// appends one JSON line to BENCH_PROBE_FILE with the process's memory (RSS, V8 heap) and its
// active resources by type (sockets, timers, file requests, …), as Node itself counts them.
// Its own timer is unref'd and appears in every sample alike, so it cannot look like growth.
import { appendFileSync } from 'node:fs';

const file = process.env.BENCH_PROBE_FILE;
const every = Number(process.env.BENCH_PROBE_INTERVAL_MS || 5000);
if (file) {
  const started = Date.now();
  const sample = () => {
    const memory = process.memoryUsage();
    const resources = {};
    for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
    const line = {
      t: (Date.now() - started) / 1000,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      resources,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  setInterval(sample, every).unref();
  sample();
}
