/**
 * `weapp-pay backup` and `restore` on SQLite: an online backup through SQLite's backup API while
 * another process keeps writing, and a restore that checks what it is given before replacing
 * anything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openDatabase } from '../../src/db/open.js';
import { runMain, tempDir } from './cli-harness.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');

/** A migrated weapp-pay database file. */
async function weappPayDatabase(file: string): Promise<void> {
  const handle = await openDatabase(`sqlite:${file}`);
  await migrateToLatest(handle);
  await handle.close();
}

/**
 * Another process inserting one anomaly row per transaction as fast as it can, printing each id
 * and the wall-clock time after its COMMIT returned: a printed id is a committed row. The times
 * say when each commit happened even if this process reads the pipe late (the backup may hold
 * our event loop while it copies).
 */
function startWriter(file: string): {
  child: ChildProcess;
  committed: () => number;
  committedBetween: (from: number, to: number) => number;
} {
  const script = `
    const Database = require(${JSON.stringify(BETTER_SQLITE3)});
    const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    const insert = db.prepare("insert into anomalies (kind, ref, data, created_at) values ('backup-test', ?, '{}', 0)");
    let i = 0;
    const tick = () => { for (let k = 0; k < 20; k++) { i++; insert.run(String(i)); process.stdout.write(i + ' ' + Date.now() + '\\n'); } setImmediate(tick); };
    tick();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill());
  let last = 0;
  const commitTimes: number[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const [id, at] = line.split(' ').map(Number);
      last = id!;
      commitTimes.push(at!);
    }
  });
  return {
    child,
    committed: () => last,
    committedBetween: (from, to) => commitTimes.filter((at) => at > from && at < to).length,
  };
}

describe('weapp-pay backup (SQLite)', () => {
  it('takes a consistent copy while another process writes: it passes integrity_check and holds every row committed before it began', async () => {
    const dir = tempDir(cleanups);
    const file = join(dir, 'pay.db');
    await weappPayDatabase(file);
    // Big enough (thousands of pages) that the copy cannot happen between two of the writer's commits.
    const seed = new Database(file);
    const pad = seed.prepare("insert into anomalies (kind, ref, data, created_at) values ('seed', ?, ?, 0)");
    seed.transaction(() => {
      for (let i = 0; i < 20_000; i++) pad.run(String(i), JSON.stringify({ pad: 'x'.repeat(400) }));
    })();
    seed.close();
    const writer = startWriter(file);
    while (writer.committed() < 2000) await new Promise((r) => setTimeout(r, 20));
    const before = writer.committed();
    const started = Date.now();
    const run = await runMain(['backup', 'backup.db'], { cwd: dir, env: { DATABASE_URL: `sqlite:${file}` } });
    const finished = Date.now();
    // Let the pipe drain: lines written during the backup may not have been read yet.
    await new Promise((r) => setTimeout(r, 200));
    writer.child.kill();
    expect(run.code).toBe(0);
    expect(writer.committedBetween(started, finished)).toBeGreaterThan(0); // the writer kept writing during the backup
    expect(run.stdout).toContain(`Backed up ${file} to ${join(dir, 'backup.db')} (integrity ok;`);

    const copy = new Database(join(dir, 'backup.db'), { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const refs = new Set(
        (copy.prepare("select ref from anomalies where kind = 'backup-test'").all() as { ref: string }[]).map(
          (r) => Number(r.ref),
        ),
      );
      const missing = Array.from({ length: before }, (_, i) => i + 1).filter((id) => !refs.has(id));
      expect(missing).toEqual([]);
      // Consistent: the committed rows form one unbroken prefix, never a hole.
      expect(Math.max(...refs)).toBe(refs.size);
    } finally {
      copy.close();
    }
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const dir = tempDir(cleanups);
    await weappPayDatabase(join(dir, 'pay.db'));
    writeFileSync(join(dir, 'old.db'), 'precious');
    const env = { DATABASE_URL: `sqlite:${join(dir, 'pay.db')}` };
    const run = await runMain(['backup', 'old.db'], { cwd: dir, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('already exists; choose another path, or add --force');
    expect((await runMain(['backup', 'old.db', '--force'], { cwd: dir, env })).code).toBe(0);
  });

  it('explains pg_dump and point-in-time recovery for PostgreSQL instead of pretending', async () => {
    const dir = tempDir(cleanups);
    const run = await runMain(['backup', 'x.dump'], {
      cwd: dir,
      env: { DATABASE_URL: 'postgres://app:pw@db/pay' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('pg_dump --format=custom');
    expect(run.stderr).toContain('Point-in-time recovery');
    expect(run.stderr).not.toContain(':pw@');
    expect(existsSync(join(dir, 'x.dump'))).toBe(false);
  });
});

describe('weapp-pay restore (SQLite)', () => {
  async function withBackup() {
    const dir = tempDir(cleanups);
    const file = join(dir, 'pay.db');
    await weappPayDatabase(file);
    const db = new Database(file);
    db.prepare(
      "insert into anomalies (kind, ref, data, created_at) values ('restore-test', 'before', '{}', 0)",
    ).run();
    db.close();
    const env = { DATABASE_URL: `sqlite:${file}` };
    expect((await runMain(['backup', 'backup.db'], { cwd: dir, env })).code).toBe(0);
    const later = new Database(file);
    later
      .prepare(
        "insert into anomalies (kind, ref, data, created_at) values ('restore-test', 'after', '{}', 0)",
      )
      .run();
    later.close();
    return { dir, file, env };
  }

  const refs = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return (
        db.prepare("select ref from anomalies where kind = 'restore-test' order by id").all() as {
          ref: string;
        }[]
      ).map((r) => r.ref);
    } finally {
      db.close();
    }
  };

  it('refuses to replace the database without --force, and says what to do', async () => {
    const { dir, file, env } = await withBackup();
    const run = await runMain(['restore', 'backup.db'], { cwd: dir, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${file} already exists. Stop the service, then run the restore again with --force`,
    );
    expect(refs(file)).toEqual(['before', 'after']);
  });

  it('restores with --force and keeps the database it replaces', async () => {
    const { dir, file, env } = await withBackup();
    const run = await runMain(['restore', 'backup.db', '--force'], { cwd: dir, env });
    expect(run.code).toBe(0);
    expect(refs(file)).toEqual(['before']);
    const kept = readdirSync(dir).find((f) => f.startsWith('pay.db.before-restore-'));
    expect(kept).toBeDefined();
    expect(refs(join(dir, kept!))).toEqual(['before', 'after']);
  });

  it('refuses while the database is in use', async () => {
    const { dir, file, env } = await withBackup();
    const open = new Database(file);
    open.pragma('journal_mode = WAL');
    open.prepare('select 1').get();
    try {
      const run = await runMain(['restore', 'backup.db', '--force'], { cwd: dir, env });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('is in use');
      expect(run.stderr).toContain('stop the service');
    } finally {
      open.close();
    }
    expect(refs(file)).toEqual(['before', 'after']);
  });

  it('refuses a file that is not a weapp-pay database, a damaged one, and one from a newer version', async () => {
    const { dir, file, env } = await withBackup();
    const other = new Database(join(dir, 'other.db'));
    other.exec('create table t (x)');
    other.close();
    expect((await runMain(['restore', 'other.db', '--force'], { cwd: dir, env })).stderr).toContain(
      'it is not a weapp-pay database (no kysely_migration table)',
    );
    writeFileSync(
      join(dir, 'garbage.db'),
      'this is not SQLite at all, just text long enough to look like a header',
    );
    expect((await runMain(['restore', 'garbage.db', '--force'], { cwd: dir, env })).stderr).toContain(
      'cannot be read as a SQLite database',
    );
    copyFileSync(join(dir, 'backup.db'), join(dir, 'newer.db'));
    const newer = new Database(join(dir, 'newer.db'));
    newer.prepare("insert into kysely_migration (name, timestamp) values ('999_from_the_future', 'x')").run();
    newer.close();
    const run = await runMain(['restore', 'newer.db', '--force'], { cwd: dir, env });
    expect(run.stderr).toContain(
      'it comes from a newer weapp-pay (migrations 999_from_the_future are unknown to this version)',
    );
    expect(run.stderr).toContain('Nothing was changed');
    expect(refs(file)).toEqual(['before', 'after']);
  });
});
