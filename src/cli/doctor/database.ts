import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve, sep } from 'node:path';
import { sql } from 'kysely';
import { MIGRATION_NAMES } from '../../db/migrations.js';
import { type DbHandle, openDatabase, redactUrl } from '../../db/open.js';
import { type CheckResult, fail, ok, skip, warn } from './check.js';

const MIGRATE_FIX = 'run `weapp-pay migrate` with the same DATABASE_URL (start and serve also migrate)';

/**
 * The database the service would use: reachable, every migration of this build applied (read
 * from Kysely's bookkeeping table, never applied here), and on SQLite the durability the service
 * relies on. A SQLite file that does not exist is not created.
 */
export async function checkDatabase(url: string, cwd: string): Promise<CheckResult[]> {
  const shown = redactUrl(url);
  const sqlitePath = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
  const results: CheckResult[] = [];
  if (sqlitePath === ':memory:')
    return [
      fail(
        'database.reachable',
        `${shown} keeps every order in memory: all is lost at exit`,
        'set DATABASE_URL=sqlite:./data/weapp-pay.db or a postgres:// URL',
      ),
    ];
  if (sqlitePath !== undefined) {
    const file = resolve(cwd, sqlitePath);
    if (!existsSync(file))
      return [
        fail('database.reachable', `the SQLite file ${file} does not exist yet`, MIGRATE_FIX),
        skip('database.migrations', 'migrations not checked: no database'),
      ];
    const temporary = temporaryPlace(file);
    if (temporary)
      results.push(
        warn(
          'database.location',
          `the SQLite file is under ${temporary}, which may be emptied at reboot`,
          'set DATABASE_URL=sqlite:/var/lib/weapp-pay/weapp-pay.db (a lasting, backed-up disk)',
        ),
      );
  }
  let handle: DbHandle;
  try {
    handle = await openDatabase(sqlitePath === undefined ? url : `sqlite:${resolve(cwd, sqlitePath)}`, {
      connectTimeoutMs: 3000,
    });
  } catch (err) {
    return [
      ...results,
      fail(
        'database.reachable',
        `cannot open ${shown}: ${(err as Error).message}`,
        'check DATABASE_URL (host, port, user, database) and that the database server runs',
      ),
    ];
  }
  try {
    const applied = await appliedMigrations(handle);
    results.push(ok('database.reachable', `${handle.dialect} database ${shown} answers`));
    results.push(migrationState(applied));
    results.push(...(await durability(handle)));
  } catch (err) {
    results.push(
      fail(
        'database.reachable',
        `${shown} does not answer queries: ${(err as Error).message}`,
        "check DATABASE_URL and the database user's rights",
      ),
    );
  } finally {
    await handle.close();
  }
  return results;
}

async function appliedMigrations(handle: DbHandle): Promise<string[]> {
  const table =
    handle.dialect === 'sqlite'
      ? await sql<{
          n: number;
        }>`select count(*) as n from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(
          handle.db,
        )
      : await sql<{
          n: number;
        }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name = 'kysely_migration'`.execute(
          handle.db,
        );
  if (Number(table.rows[0]?.n ?? 0) === 0) return [];
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
    handle.db,
  );
  return rows.map((r) => r.name);
}

function migrationState(applied: readonly string[]): CheckResult {
  const id = 'database.migrations';
  const pending = MIGRATION_NAMES.filter((name) => !applied.includes(name));
  const unknown = applied.filter((name) => !MIGRATION_NAMES.includes(name));
  if (unknown.length > 0)
    return fail(
      id,
      `the database has migrations this build does not know (${unknown.join(', ')}): it was migrated by a newer weapp-pay`,
      'run the newer weapp-pay, or restore a backup taken before the upgrade',
    );
  if (pending.length > 0)
    return fail(
      id,
      `${pending.length} of ${MIGRATION_NAMES.length} migrations not applied (${pending.join(', ')})`,
      MIGRATE_FIX,
    );
  return ok(id, `all ${MIGRATION_NAMES.length} migrations applied`);
}

/**
 * The service opens SQLite in WAL mode with synchronous=FULL (src/db/open-sqlite.ts): a commit
 * is on disk before WeChat gets its SUCCESS. Some filesystems (network shares) refuse WAL; the
 * mode then silently stays as it was, which is what this reads back.
 */
async function durability(handle: DbHandle): Promise<CheckResult[]> {
  const id = 'database.durability';
  if (handle.dialect === 'postgres') {
    const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(handle.db);
    const mode = rows[0]?.synchronous_commit ?? '';
    return [
      mode === 'off'
        ? warn(
            id,
            'PostgreSQL synchronous_commit is off: a crash can lose commits WeChat was told about',
            'set synchronous_commit = on in postgresql.conf (or for the weapp-pay role)',
          )
        : ok(id, `PostgreSQL synchronous_commit is ${mode}`),
    ];
  }
  const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(handle.db);
  const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(handle.db);
  const mode = journal.rows[0]?.journal_mode;
  const level = sync.rows[0]?.synchronous;
  if (mode !== 'wal')
    return [
      fail(
        id,
        `SQLite journal_mode is ${mode}, not wal: this filesystem refuses WAL`,
        'put the SQLite file on a local disk (not a network share), or use DATABASE_URL=postgres://…',
      ),
    ];
  if (level !== 2)
    return [
      fail(
        id,
        `SQLite synchronous is ${level}, not FULL (2)`,
        'report this: the service sets synchronous=FULL when it opens the file',
      ),
    ];
  return [
    ok(id, 'SQLite journal_mode=WAL, synchronous=FULL: each commit is on disk before it is acknowledged'),
  ];
}

const TEMPORARY = ['/tmp', '/var/tmp', '/dev/shm', '/run'];

function temporaryPlace(file: string): string | undefined {
  let dir = dirname(file);
  try {
    dir = realpathSync(dir);
  } catch {}
  const places = [...TEMPORARY, tmpdir()];
  return places.find((p) => dir === p || dir.startsWith(p.endsWith(sep) ? p : `${p}${sep}`));
}
