/**
 * A fresh database per measurement: a new SQLite file under bench/out/ (on the same disk as the
 * project, never a tmpfs, so fsync costs what it costs), or a new PostgreSQL schema that is
 * dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrations.js';
import { type DbHandle, openDatabase } from '../src/db/open.js';
import type { DbKind } from './args.js';
import { REPO_ROOT } from './processes.js';

export interface BenchDatabase {
  kind: DbKind;
  /** DATABASE_URL for the service. */
  url: string;
  /**
   * A migrated handle for preparing rows and checking them afterwards. It skips the per-commit
   * flush (SQLite synchronous=OFF, PostgreSQL synchronous_commit=off): preparation is not what
   * is measured, and the service's own connections keep their durable settings.
   */
  openForSetup(): Promise<DbHandle>;
  /** The durability setting the service runs with, for the report. */
  durability(): Promise<string>;
  drop(): Promise<void>;
}

export const OUT_DIR = join(REPO_ROOT, 'bench', 'out');

export async function createBenchDatabase(kind: DbKind, postgresUrl: string): Promise<BenchDatabase> {
  return kind === 'sqlite' ? sqliteDatabase() : postgresDatabase(postgresUrl);
}

function sqliteDatabase(): BenchDatabase {
  const dir = join(OUT_DIR, `db-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const url = `sqlite:${join(dir, 'bench.db')}`;
  return {
    kind: 'sqlite',
    url,
    async openForSetup() {
      const handle = await openDatabase(url);
      await sql`pragma synchronous = OFF`.execute(handle.db);
      await migrateToLatest(handle);
      return handle;
    },
    async durability() {
      const handle = await openDatabase(url);
      try {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(handle.db);
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(handle.db);
        const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
        const level = names[sync.rows[0]?.synchronous ?? -1] ?? 'unknown';
        return `SQLite journal_mode=${mode.rows[0]?.journal_mode.toUpperCase()}, synchronous=${level}, BEGIN IMMEDIATE`;
      } finally {
        await handle.close();
      }
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(baseUrl: string): BenchDatabase {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  let created = false;
  const url = withOptions(baseUrl, `-c search_path=${schema}`);
  return {
    kind: 'postgres',
    url,
    async openForSetup() {
      if (!created) {
        await admin(baseUrl, `create schema ${schema}`);
        created = true;
      }
      const handle = await openDatabase(
        withOptions(baseUrl, `-c search_path=${schema} -c synchronous_commit=off`),
      );
      await migrateToLatest(handle);
      return handle;
    },
    async durability() {
      const [commit, fsync] = await Promise.all([
        admin(baseUrl, 'show synchronous_commit'),
        admin(baseUrl, 'show fsync'),
      ]);
      return `PostgreSQL synchronous_commit=${commit}, fsync=${fsync}`;
    },
    async drop() {
      if (created) await admin(baseUrl, `drop schema if exists ${schema} cascade`);
    },
  };
}

/** Why PostgreSQL cannot be used at `url`, or undefined when it answers. */
export async function postgresProblem(url: string): Promise<string | undefined> {
  try {
    await admin(url, 'select 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  }
}

/** `options` travels in the start-up packet, so every pooled connection gets it. */
function withOptions(url: string, options: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', options);
  return parsed.toString();
}

async function admin(url: string, statement: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const result = await client.query(statement);
    const row = result.rows[0] as Record<string, unknown> | undefined;
    return row ? String(Object.values(row)[0]) : '';
  } finally {
    await client.end();
  }
}
