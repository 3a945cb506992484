import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { applyMigrations, MIGRATIONS } from './migrations';
import type { Migration } from './migrations';

/** How long a write waits for another process's write lock on the same file before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating when missing) the SQLite file at `filename` in write-ahead-log mode with foreign keys on, and brings
 * its schema up to date; `:memory:` opens a private in-memory database.
 */
export function openSqliteDatabase(
  filename: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { database: SqliteDatabase; appliedMigrations: number[] } {
  if (filename !== ':memory:') mkdirSync(path.dirname(filename), { recursive: true });
  const database = new Database(filename, { timeout: BUSY_TIMEOUT_MS });
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    const appliedMigrations = applyMigrations(database, migrations);
    return { database, appliedMigrations };
  } catch (error) {
    database.close();
    throw error;
  }
}

/** Runs synchronous database work and hands its result (or its error, as a rejection) over as a promise. */
export function settle<Result>(work: () => Result): Promise<Result> {
  return new Promise((resolve) => resolve(work()));
}
