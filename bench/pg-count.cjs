/**
 * A diagnostic preload for the service, not part of it: how many statements the service sends
 * to PostgreSQL, by the start of their text. Each one is a round trip: a socket write and a
 * wake-up of the server process. Written to bench/out/pg-count.<pid>.txt when the process ends.
 *
 *   BENCH_SERVICE_NODE_OPTIONS="--require ./bench/pg-count.cjs" \
 *     node --import tsx bench/run.ts --quick --scenario notify --db postgres
 *
 * Divide the total by the notifications the run paid for statements per notification.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const counts = new Map();
let patched = false;

function patch(pg) {
  if (patched) return;
  patched = true;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string') {
      const key = text.replace(/\s+/g, ' ').slice(0, 90);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return query.call(this, config, ...rest);
  };
}

const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (request === 'pg' || /[\\/]pg[\\/]lib[\\/]index\.js$/.test(request)) patch(loaded);
  return loaded;
};

process.on('exit', () => {
  if (counts.size === 0) return;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${String(n).padStart(8)}  ${key}`);
  const out = path.join(__dirname, 'out', `pg-count.${process.pid}.txt`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${String(total).padStart(8)}  statements in all\n${lines.join('\n')}\n`);
});
