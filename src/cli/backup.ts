import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULTS, type Env } from '../config.js';
import { redactUrl } from '../db/open.js';
import type { CommandSpec, Io } from './command.js';
import { checkBackupFile, sqlitePathOf } from './sqlite-file.js';

const POSTGRES_BACKUP = (url: string) =>
  `DATABASE_URL is PostgreSQL (${redactUrl(url)}): weapp-pay does not copy a PostgreSQL database itself, because the server's own tools do it properly.
  - A consistent logical backup, taken while the service runs:  pg_dump --format=custom --file=weapp-pay.dump "$DATABASE_URL"
    restored with:  pg_restore --clean --if-exists --dbname="$DATABASE_URL" weapp-pay.dump
  - Point-in-time recovery (lose at most the last few seconds): continuous WAL archiving (archive_mode, archive_command)
    plus periodic base backups (pg_basebackup), or your provider's managed backups.
Test a restore on a scratch database before you rely on either.
`;

/**
 * Copy every remaining page in one step. In steps of 100 pages, each write by another connection
 * restarts the backup, and a busy service could keep it from ever finishing. One step holds a read
 * transaction, which in WAL mode does not block the service's writers.
 */
const ALL_REMAINING_PAGES = () => 0x7fffffff;

function databaseUrl(env: Env): string {
  return env.DATABASE_URL?.trim() || DEFAULTS.databaseUrl;
}

export const backupCommand: CommandSpec = {
  name: 'backup',
  summary:
    'write a consistent copy of the SQLite database while the service runs (PostgreSQL: explains pg_dump)',
  args: [{ syntax: '<path>', about: 'the backup file to write, e.g. ./backups/weapp-pay-2026-12-02.db' }],
  options: [{ flags: '--force', about: 'overwrite <path> if it exists, e.g. --force' }],
  env: ['DATABASE_URL'],
  examples: ['weapp-pay backup ./backups/weapp-pay-$(date +%F).db'],
  readsSettings: true,
  async run([target], options, { env, io, cwd }) {
    const url = databaseUrl(env);
    const source = sqlitePathOf(url, cwd);
    if (source === undefined) {
      io.err(POSTGRES_BACKUP(url));
      return 1;
    }
    const dest = resolve(cwd, target!);
    if (!existsSync(source))
      return fail(io, `there is no database at ${source} (DATABASE_URL=${url}) to back up.`);
    if (existsSync(dest) && !options.force) {
      return fail(io, `${dest} already exists; choose another path, or add --force to overwrite it.`);
    }
    // The online backup API copies pages under SQLite's locks, restarting when a writer changes a
    // page already copied: the result is the database as of one moment, WAL content included. A
    // file copy of a WAL database can miss committed transactions or catch one half-written.
    const db = new Database(source, { readonly: true, fileMustExist: true });
    try {
      if (existsSync(dest)) rmSync(dest);
      await db.backup(dest, { progress: ALL_REMAINING_PAGES });
    } finally {
      db.close();
    }
    const check = checkBackupFile(dest);
    if (!check.ok) return fail(io, `the backup at ${dest} failed its check: ${check.problem}`);
    io.out(
      `Backed up ${source} to ${dest} (integrity ok; ${check.orders} orders; migrations up to ${check.latest}).\n`,
    );
    return 0;
  },
};

export const restoreCommand: CommandSpec = {
  name: 'restore',
  summary: 'check a backup file and make it the SQLite database (the service must be stopped)',
  args: [
    {
      syntax: '<path>',
      about: 'a file written by `weapp-pay backup`, e.g. ./backups/weapp-pay-2026-12-02.db',
    },
  ],
  options: [
    {
      flags: '--force',
      about: 'replace an existing database (kept as <database>.before-restore-<time>), e.g. --force',
    },
  ],
  env: ['DATABASE_URL'],
  examples: ['weapp-pay restore ./backups/weapp-pay-2026-12-02.db --force'],
  readsSettings: true,
  async run([from], options, { env, io, cwd }) {
    const url = databaseUrl(env);
    const target = sqlitePathOf(url, cwd);
    if (target === undefined) {
      io.err(POSTGRES_BACKUP(url));
      return 1;
    }
    const backup = resolve(cwd, from!);
    if (!existsSync(backup)) return fail(io, `there is no file at ${backup} to restore.`);
    const check = checkBackupFile(backup);
    if (!check.ok) return fail(io, `${backup} cannot be restored: ${check.problem}. Nothing was changed.`);
    if (existsSync(target)) {
      if (!options.force) {
        return fail(
          io,
          `${target} already exists. Stop the service, then run the restore again with --force; the current database is kept as ${target}.before-restore-<time>.`,
        );
      }
      const busy = holdExclusively(target);
      if (busy)
        return fail(
          io,
          `${target} is in use (${busy}): stop the service (and any other process using it) first. Nothing was changed.`,
        );
      const kept = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(target, kept);
      for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
      io.out(`The database it replaces is kept as ${kept}.\n`);
    }
    const db = new Database(backup, { readonly: true, fileMustExist: true });
    try {
      await db.backup(target, { progress: ALL_REMAINING_PAGES });
    } finally {
      db.close();
    }
    io.out(
      `Restored ${backup} to ${target} (${check.orders} orders; migrations up to ${check.latest}). Start the service; it applies any newer migrations.\n`,
    );
    return 0;
  },
};

/**
 * Takes SQLite's exclusive lock and checkpoints the WAL into the file, so the file alone holds
 * every commit before it is set aside. Fails (returns why) while another connection has it open.
 */
function holdExclusively(file: string): string | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 0, fileMustExist: true });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  } finally {
    db?.close();
  }
}

function fail(io: Io, message: string): number {
  io.err(`weapp-pay: ${message}\n`);
  return 1;
}
