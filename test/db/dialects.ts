/**
 * The databases every storage-touching suite runs on:
 *
 *   for (const database of testDatabases()) {
 *     describe(database.name, () => { ... const handle = await database.openMigrated(); ... });
 *   }
 *
 * - SQLite: always; a fresh file (WAL) in a temporary folder, removed on close.
 * - PostgreSQL: WEAPP_PAY_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 *   Each open() creates a schema of its own, points search_path at it and drops it on close, so
 *   test files running in parallel never see each other's rows.
 *   Unreachable: an error when WEAPP_PAY_REQUIRE_POSTGRES=1 (CI), otherwise one line on stderr
 *   and the PostgreSQL variants are left out.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { SqlDialect } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { type DbHandle, type OpenOptions, openDatabase, redactUrl } from '../../src/db/open.js';

export interface TestDbHandle extends DbHandle {
  /** A URL that opens this same database (same file or schema), e.g. from a child process. */
  url: string;
}

export interface TestDatabase {
  name: SqlDialect;
  /** A fresh, empty database: no tables yet. */
  open(options?: OpenOptions): Promise<TestDbHandle>;
  /** A fresh database with every migration applied. */
  openMigrated(options?: OpenOptions): Promise<TestDbHandle>;
}

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Cached per process: one probe per vitest worker, not one per suite. */
const PROBE_CACHE = 'WEAPP_PAY_TEST_POSTGRES_PROBE';

export function postgresTestUrl(): string {
  return process.env.WEAPP_PAY_TEST_DATABASE_URL || DEFAULT_POSTGRES_URL;
}

export function testDatabases(): TestDatabase[] {
  const databases: TestDatabase[] = [sqliteDatabase()];
  const url = postgresTestUrl();
  const problem = probePostgres(url);
  if (problem === undefined) {
    databases.push(postgresDatabase(url));
  } else if (process.env.WEAPP_PAY_REQUIRE_POSTGRES === '1') {
    throw new Error(
      `PostgreSQL not reachable at ${redactUrl(url)} (${problem}), and WEAPP_PAY_REQUIRE_POSTGRES=1 requires it`,
    );
  } else {
    process.stderr.write(
      `PostgreSQL not reachable at ${redactUrl(url)}: skipping PostgreSQL suites ` +
        '(set WEAPP_PAY_REQUIRE_POSTGRES=1 to make this an error)\n',
    );
  }
  return databases;
}

function sqliteDatabase(): TestDatabase {
  const open = async (options: OpenOptions = {}): Promise<TestDbHandle> => {
    const dir = mkdtempSync(join(tmpdir(), 'weapp-pay-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const handle = await openDatabase(url, options);
    return {
      ...handle,
      url,
      close: async () => {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
  return { name: 'sqlite', open, openMigrated: withMigrations(open) };
}

function postgresDatabase(baseUrl: string): TestDatabase {
  const open = async (options: OpenOptions = {}): Promise<TestDbHandle> => {
    const schema = `test_${randomBytes(6).toString('hex')}`;
    await admin(baseUrl, `create schema ${schema}`);
    const url = withSearchPath(baseUrl, schema);
    const handle = await openDatabase(url, options);
    return {
      ...handle,
      url,
      close: async () => {
        await handle.close();
        await admin(baseUrl, `drop schema if exists ${schema} cascade`);
      },
    };
  };
  return { name: 'postgres', open, openMigrated: withMigrations(open) };
}

function withMigrations(open: TestDatabase['open']): TestDatabase['openMigrated'] {
  return async (options) => {
    const handle = await open(options);
    try {
      await migrateToLatest(handle);
      return handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  };
}

/** `options=-c search_path=…` is sent at connection start-up, so every pooled connection gets it. */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Connects once from a child process, synchronously, so testDatabases() can be called at the top
 * level of a test file to build its describe blocks. Returns undefined when reachable.
 */
function probePostgres(url: string): string | undefined {
  const cached = process.env[PROBE_CACHE];
  if (cached?.startsWith(`${url} `)) {
    const verdict = cached.slice(url.length + 1);
    return verdict === 'ok' ? undefined : verdict;
  }
  const script = `
    const pg = require('pg');
    const client = new pg.Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
    client.connect().then(() => client.query('select 1')).then(
      () => client.end().then(() => process.exit(0)),
      (err) => { process.stderr.write(String(err && err.message || err)); process.exit(1); });`;
  let verdict = 'ok';
  try {
    execFileSync(process.execPath, ['-e', script, url], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    verdict = stderr || (err as Error).message;
  }
  process.env[PROBE_CACHE] = `${url} ${verdict}`;
  return verdict === 'ok' ? undefined : verdict;
}
