/**
 * The commit group on a real SQLite file: writes that are ready together share one commit, a
 * failing one rolls back alone, and nobody hears "done" before the shared COMMIT.
 */
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { testDatabases } from '../../test/db/dialects.js';
import { statementsSent } from '../../test/db/pg-statements.js';
import { commitGroupOf, createCommitGroup, writeStatement, writeTransaction } from './commit-group.js';
import type { Db } from './database.js';
import { openDatabase } from './open.js';

const sqlite = testDatabases().find((d) => d.name === 'sqlite')!;
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function database(): Promise<Db> {
  const handle = await sqlite.openMigrated();
  closing.push(() => handle.close());
  return handle.db;
}

const anomaly = (ref: string) => ({ kind: 'commit-group-test', ref, data: '{}', created_at: 0 });
const refs = async (db: Db) =>
  (
    await db
      .selectFrom('anomalies')
      .select('ref')
      .where('kind', '=', 'commit-group-test')
      .orderBy('ref')
      .execute()
  ).map((r) => r.ref);

describe('commit group (SQLite)', () => {
  it('gives the writes that are ready together one commit, and each caller its own result', async () => {
    const db = await database();
    const group = createCommitGroup(db);
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((ref) =>
        group.run(async (trx) => {
          await trx.insertInto('anomalies').values(anomaly(ref)).execute();
          return `wrote ${ref}`;
        }),
      ),
    );
    expect(results).toEqual(['wrote a', 'wrote b', 'wrote c', 'wrote d']);
    expect(group.stats()).toEqual({ commits: 1, works: 4 });
    expect(await refs(db)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rolls back a write that fails to its own savepoint: its caller gets the error, the others commit', async () => {
    const db = await database();
    const group = createCommitGroup(db);
    const outcomes = await Promise.allSettled([
      group.run((trx) => trx.insertInto('anomalies').values(anomaly('kept-1')).execute()),
      group.run(async (trx) => {
        await trx.insertInto('anomalies').values(anomaly('undone')).execute();
        throw new Error('this write changed its mind');
      }),
      group.run((trx) => trx.insertInto('anomalies').values(anomaly('kept-2')).execute()),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('this write changed its mind');
    expect(await refs(db)).toEqual(['kept-1', 'kept-2']);
    expect(group.stats().commits).toBe(1);
  });

  it('answers nobody before the shared COMMIT: a quick write waits for the slow one it is grouped with', async () => {
    const db = await database();
    const group = createCommitGroup(db);
    let release!: () => void;
    const slowMayFinish = new Promise<void>((r) => {
      release = r;
    });
    let quickAnswered = false;
    const quick = group
      .run((trx) => trx.insertInto('anomalies').values(anomaly('quick')).execute())
      .then(() => {
        quickAnswered = true;
      });
    const slow = group.run(async (trx) => {
      await trx.insertInto('anomalies').values(anomaly('slow')).execute();
      await slowMayFinish;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(quickAnswered).toBe(false); // its row is written, but not committed yet
    release();
    await Promise.all([quick, slow]);
    expect(quickAnswered).toBe(true);
    expect(group.stats()).toEqual({ commits: 1, works: 2 });
  });

  it('fails every write of a group whose COMMIT fails, and leaves none of them behind', async () => {
    const db = await database();
    const group = createCommitGroup(db);
    // A deferred foreign key is checked at COMMIT: the whole transaction is refused there.
    await sql`create table parent (id integer primary key)`.execute(db);
    await sql`create table child (id integer primary key, parent_id integer references parent (id) deferrable initially deferred)`.execute(
      db,
    );
    const outcomes = await Promise.allSettled([
      group.run((trx) => trx.insertInto('anomalies').values(anomaly('innocent')).execute()),
      group.run((trx) => sql`insert into child (id, parent_id) values (1, 42)`.execute(trx)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await refs(db)).toEqual([]);
  });

  it('is what writeTransaction uses on SQLite: the second write runs before the first is committed', async () => {
    const handle = await sqlite.openMigrated();
    closing.push(() => handle.close());
    const db = handle.db;
    // Another connection sees only what is committed.
    const outside = new Database(handle.url.replace(/^sqlite:/, ''), { readonly: true });
    closing.push(async () => {
      outside.close();
    });
    const committedRefs = () =>
      (
        outside.prepare("select ref from anomalies where kind = 'commit-group-test'").all() as {
          ref: string;
        }[]
      ).map((r) => r.ref);
    let seenDuringSecond: string[] = [];
    await Promise.all([
      writeTransaction(db, (trx) => trx.insertInto('anomalies').values(anomaly('first')).execute()),
      writeTransaction(db, async (trx) => {
        seenDuringSecond = committedRefs();
        await trx.insertInto('anomalies').values(anomaly('second')).execute();
      }),
    ]);
    expect(seenDuringSecond).toEqual([]); // separate transactions would have committed 'first' already
    expect(committedRefs()).toEqual(['first', 'second']);
  });
});

describe('writeStatement', () => {
  it('shares the commit group on SQLite: a statement ready with another write commits with it', async () => {
    const db = await database();
    const group = commitGroupOf(db);
    const before = group.stats();
    const statement = db.insertInto('anomalies').values(anomaly('alone')).compile();
    await Promise.all([
      writeStatement(db, statement),
      writeTransaction(db, (trx) => trx.insertInto('anomalies').values(anomaly('beside')).execute()),
    ]);
    const after = group.stats();
    expect(after.works - before.works).toBe(2);
    expect(after.commits - before.commits).toBe(1);
    expect(await refs(db)).toEqual(['alone', 'beside']);
  });

  for (const postgres of testDatabases().filter((d) => d.name === 'postgres')) {
    it('sends PostgreSQL the statement alone, with no BEGIN or COMMIT, and it is committed', async () => {
      const handle = await postgres.openMigrated();
      closing.push(() => handle.close());
      const sent = await statementsSent(() =>
        writeStatement(handle.db, handle.db.insertInto('anomalies').values(anomaly('pg')).compile()),
      );
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^insert into "anomalies"/);
      const other = await openDatabase(handle.url);
      try {
        expect(await refs(other.db)).toEqual(['pg']);
      } finally {
        await other.close();
      }
    });
  }
});
