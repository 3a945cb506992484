import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * Opens the server's control-plane store file for a worker Activity (vault credentials, repository tokens, the
 * self-hosted work queue); it must exist, since the server creates and migrates it. `purpose` completes the error:
 * "the worker must use the server's KEEL_DATA_DIR to …".
 */
export function openControlPlaneFile(filename: string, purpose: string): SqliteDatabase {
  try {
    return new Database(filename, { fileMustExist: true, timeout: 5_000 });
  } catch (error) {
    throw new Error(
      `No control-plane store at ${filename} (${(error as Error).message}): the worker must use the server's ` +
        `KEEL_DATA_DIR to ${purpose}.`,
      { cause: error },
    );
  }
}
