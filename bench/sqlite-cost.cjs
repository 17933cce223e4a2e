/**
 * A diagnostic preload for the service, not part of it: what each SQLite statement costs, and
 * how many pages each COMMIT writes to the WAL. Every better-sqlite3 statement is timed (wall
 * time and the process's CPU time around the call); a COMMIT is labelled by the kind of work its
 * transaction did, and the WAL frames it appended are read from the WAL index header before and
 * after it. Written to bench/out/sqlite-cost.<pid>.txt when the process ends.
 *
 *   BENCH_SERVICE_NODE_OPTIONS="--require ./bench/sqlite-cost.cjs" \
 *     node --import tsx bench/run.ts --quick --scenario notify --db sqlite
 *
 * The timing itself costs a few microseconds per statement; compare runs made with it, never a
 * run with it against one without. The CPU column is the whole process's, so it includes what
 * other threads did meanwhile (libuv's pool verifying v3 signatures, V8's collector): for a short
 * statement read the wall time, which is time on the event loop.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const stats = new Map();
/** The kind of work the open transaction did, named by the statement that shows it. */
let work = 'empty';
let patched = false;

function add(key, wallUs, cpuUs, frames) {
  let s = stats.get(key);
  if (!s) {
    s = { n: 0, wallUs: 0, cpuUs: 0, frames: 0 };
    stats.set(key, s);
  }
  s.n += 1;
  s.wallUs += wallUs;
  s.cpuUs += cpuUs;
  s.frames += frames;
}

/** mxFrame of the WAL index header (the -shm file; SQLite's wal.c, WalIndexHdr): frames in the log. */
function walFrames(shmFile) {
  try {
    const fd = fs.openSync(shmFile, 'r');
    try {
      const header = Buffer.alloc(48);
      fs.readSync(fd, header, 0, 48, 0);
      return header.readUInt32LE(16);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 0;
  }
}

function label(sql) {
  if (/^begin/i.test(sql)) work = 'empty';
  else if (/^update "orders"/.test(sql)) work = 'payment';
  else if (/^insert into "orders"/.test(sql) && work !== 'payment') work = 'order';
  else if (/^insert into "webhook_attempts"/.test(sql) && work === 'empty') work = 'delivery';
  else if (/^update "?webhook_events"? set "?position/.test(sql) && work === 'empty') work = 'fan-out';
  else if (/^(insert|update|delete)/i.test(sql) && work === 'empty') work = 'other write';
}

function patch(Database) {
  if (patched) return;
  patched = true;
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function (source) {
    const statement = prepare.call(this, source);
    const sql = source.replace(/\s+/g, ' ').slice(0, 120);
    const commit = /^commit/i.test(sql);
    const shm = this.name && this.name !== ':memory:' ? `${this.name}-shm` : undefined;
    for (const method of ['run', 'all', 'get']) {
      const original = statement[method];
      statement[method] = function (...args) {
        label(sql);
        const before = commit && shm ? walFrames(shm) : 0;
        const cpu = process.cpuUsage();
        const start = process.hrtime.bigint();
        try {
          return original.apply(this, args);
        } finally {
          const wallUs = Number(process.hrtime.bigint() - start) / 1000;
          const used = process.cpuUsage(cpu);
          let frames = 0;
          if (commit && shm) {
            const after = walFrames(shm);
            // A write that finds the log fully checkpointed starts it again from frame 1.
            frames = after >= before ? after - before : after;
          }
          add(commit ? `COMMIT (${work})` : sql, wallUs, used.user + used.system, frames);
        }
      };
    }
    return statement;
  };
}

const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  // An ESM import of the package reaches here with its resolved file name.
  if (request === 'better-sqlite3' || /better-sqlite3[\\/]lib[\\/]index\.js$/.test(request)) patch(loaded);
  return loaded;
};

function write() {
  if (stats.size === 0) return;
  const rows = [...stats].sort((a, b) => b[1].cpuUs - a[1].cpuUs).slice(0, 40);
  const lines = rows.map(([key, s]) => {
    const frames = key.startsWith('COMMIT')
      ? `${(s.frames / s.n).toFixed(1).padStart(6)} frames`
      : ' '.repeat(13);
    return `${String(s.n).padStart(7)} × ${(s.cpuUs / s.n).toFixed(0).padStart(6)} µs CPU ${(s.wallUs / s.n).toFixed(0).padStart(6)} µs wall ${frames}  ${key}`;
  });
  const out = path.join(__dirname, 'out', `sqlite-cost.${process.pid}.txt`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${lines.join('\n')}\n`);
}
// The service exits by itself after SIGTERM, once it has closed its database.
process.on('exit', write);
