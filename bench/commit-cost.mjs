// What one SQLite commit costs on this machine, in wall-clock time and in the process's own CPU
// (user and system), with synchronous=FULL, with NORMAL, and with NORMAL followed by an fdatasync
// of the -wal file: `node bench/commit-cost.mjs`. 500 transactions of 1 and of 10 small rows each,
// in a fresh WAL database under bench/out/ (the project's disk).
import { fdatasyncSync, mkdirSync, openSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';

const dir = new URL('./out/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const file = `${dir}commit-cost.db`;
const N = 500;
for (const mode of ['FULL', 'NORMAL', 'NORMAL+fdatasync']) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode.split('+')[0]}`);
  db.exec('create table t (id integer primary key, k text unique, v text)');
  const insert = db.prepare('insert into t (k, v) values (?, ?)');
  const begin = db.prepare('begin immediate');
  const commit = db.prepare('commit');
  let wal;
  for (const rows of [1, 10]) {
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      begin.run();
      for (let r = 0; r < rows; r++) insert.run(`${i}-${r}-${Math.random()}`, 'x'.repeat(200));
      commit.run();
      if (mode.endsWith('fdatasync')) {
        wal ??= openSync(`${file}-wal`, 'r');
        fdatasyncSync(wal);
      }
    }
    const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / N;
    const used = process.cpuUsage(cpu);
    console.log(
      `${mode.padEnd(17)} ${String(rows).padStart(2)} row(s)/commit: wall ${wallUs.toFixed(0)} µs, ` +
        `user ${(used.user / N).toFixed(0)} µs, system ${(used.system / N).toFixed(0)} µs per commit`,
    );
  }
  db.close();
}
for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
