import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './statement-cache.js';

describe('SQLite statement cache', () => {
  it('reuses a prepared statement for the same SQL and evicts the least recently used', () => {
    const sqlite = new Database(':memory:');
    const db = withStatementCache(sqlite, 2);
    const a = db.prepare('select 1 as x');
    expect(db.prepare('select 1 as x')).toBe(a);
    db.prepare('select 2 as x');
    db.prepare('select 1 as x'); // a is now the most recent
    db.prepare('select 3 as x'); // evicts "select 2"
    expect(db.prepare('select 1 as x')).toBe(a);
    expect(a.all([])).toEqual([{ x: 1 }]);
    db.close();
    expect(sqlite.open).toBe(false);
  });

  it('never hands out a statement that is mid-iteration', () => {
    const sqlite = new Database(':memory:');
    const db = withStatementCache(sqlite);
    const first = db.prepare('select 1 as x union all select 2');
    const rows = first.iterate([]);
    rows.next();
    const second = db.prepare('select 1 as x union all select 2');
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ x: 1 }, { x: 2 }]);
    rows.return?.();
    sqlite.close();
  });
});
