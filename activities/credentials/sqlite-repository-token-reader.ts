import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { repositoryTokenContext } from '../../common/credential-secret-context';
import type { RepositoryTokenReader } from '../../common/credentials';
import { openSecret } from '../../common/secret-box';
import { openControlPlaneFile } from '../control-plane-file';

/** What the reader is built from. */
export interface SqliteRepositoryTokenReaderOptions {
  /** The control-plane store file: `credentialStoreFile(KEEL_DATA_DIR)`. */
  filename: string;
  /** The key the server sealed the tokens with (`resolveSecretKey`). */
  secretKey: Uint8Array;
}

/**
 * The worker's `RepositoryTokenReader`: reads a repository resource's sealed token from the server's SQLite store
 * (table `session_repository_tokens`, created by the server's migration 6: `resource_id`, `session_id`, `token`) and
 * opens it with `repositoryTokenContext(session id, resource id)`. It only reads; the server writes and deletes.
 */
export class SqliteRepositoryTokenReader implements RepositoryTokenReader {
  private database: SqliteDatabase | null = null;
  private findToken: Statement<[string, string], { token: string }> | null = null;

  constructor(private readonly options: SqliteRepositoryTokenReaderOptions) {}

  repositoryToken(sessionId: string, resourceId: string): Promise<string | null> {
    return new Promise((resolve) => {
      const row = this.statement().get(resourceId, sessionId);
      resolve(
        row === undefined
          ? null
          : openSecret(this.options.secretKey, row.token, repositoryTokenContext(sessionId, resourceId)),
      );
    });
  }

  /** Closes the database; a later call opens it again. */
  close(): void {
    this.database?.close();
    this.database = null;
    this.findToken = null;
  }

  private statement(): Statement<[string, string], { token: string }> {
    if (this.findToken !== null) return this.findToken;
    const database = openControlPlaneFile(this.options.filename, 'read repository tokens');
    try {
      this.findToken = database.prepare(
        'SELECT token FROM session_repository_tokens WHERE resource_id = ? AND session_id = ?',
      );
    } catch (error) {
      database.close();
      throw new Error(
        `The control-plane store at ${this.options.filename} has no repository token table ` +
          `(${(error as Error).message}): start a Keel server of this version on it first.`,
        { cause: error },
      );
    }
    this.database = database;
    return this.findToken;
  }
}
