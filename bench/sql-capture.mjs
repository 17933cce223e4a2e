// Preloaded into the service (`node --import`) by the growth scenario: records the text of every
// SQL statement the service prepares on SQLite, so the bench can ask SQLite for the plan of
// each one against a large database afterwards. Written to BENCH_SQL_CAPTURE when the process
// exits. The statements run unchanged; only their text is noted (never their parameters).
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const target = process.env.BENCH_SQL_CAPTURE;
if (target) {
  const seen = new Set();
  const prepare = Database.prototype.prepare;
  Database.prototype.prepare = function capturedPrepare(sql, ...rest) {
    seen.add(sql);
    return prepare.call(this, sql, ...rest);
  };
  process.once('exit', () => writeFileSync(target, JSON.stringify([...seen])));
}
