import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations } from './migrations.js';
import { StoreError } from './store-error.js';

let db: Database.Database;

beforeEach(() => {
  db = new Database(':memory:');
});

afterEach(() => {
  db.close();
});

const version = (): unknown => db.pragma('user_version', { simple: true });
const tables = (): unknown[] =>
  db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    )
    .all()
    .map((row) => row.name);

describe('applyMigrations', () => {
  const v1 = 'CREATE TABLE a (x INTEGER) STRICT;';
  const v2 = 'CREATE TABLE b (y TEXT) STRICT; INSERT INTO a VALUES (7);';

  it('runs only the pending entries and returns the version it found', () => {
    expect(applyMigrations(db, [v1])).toBe(0);
    expect(version()).toBe(1);
    // v1 again would fail ("table a already exists"): it must be skipped.
    expect(applyMigrations(db, [v1, v2])).toBe(1);
    expect(version()).toBe(2);
    expect(applyMigrations(db, [v1, v2])).toBe(2);
    expect(tables()).toEqual(['a', 'b']);
    expect(db.prepare('SELECT x FROM a').pluck().all()).toEqual([7]);
  });

  it('rolls every pending step back, version included, when one fails', () => {
    const broken = 'CREATE TABLE c (z TEXT); INSERT INTO missing VALUES (1);';
    let thrown: unknown;
    try {
      applyMigrations(db, [v1, v2, broken]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe('migration-failed');
    expect((thrown as StoreError).message).toContain('migration 2 -> 3');
    expect(version()).toBe(0);
    expect(tables()).toEqual([]);
  });

  it('refuses a database ahead of the list', () => {
    db.pragma('user_version = 3');
    expect(() => applyMigrations(db, [v1, v2])).toThrow(
      expect.objectContaining({ code: 'newer-schema' }),
    );
    expect(version()).toBe(3);
  });
});
