import type { Database, Statement } from 'better-sqlite3';
import type { RepositoryTokenRepository } from './control-plane-store';
import { settle } from './sqlite-database';

/** Sealed repository tokens in the embedded SQLite store (table `session_repository_tokens`, migration 6). */
export class SqliteRepositoryTokenRepository implements RepositoryTokenRepository {
  private readonly upsert: Statement<{ sessionId: string; resourceId: string; token: string; at: string }>;
  private readonly deleteOne: Statement<{ sessionId: string; resourceId: string }>;
  private readonly deleteAll: Statement<{ sessionId: string }>;

  constructor(database: Database) {
    this.upsert = database.prepare(
      `INSERT INTO session_repository_tokens (resource_id, session_id, token, created_at, updated_at)
       VALUES (@resourceId, @sessionId, @token, @at, @at)
       ON CONFLICT (resource_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at
       WHERE session_id = excluded.session_id`,
    );
    this.deleteOne = database.prepare(
      'DELETE FROM session_repository_tokens WHERE resource_id = @resourceId AND session_id = @sessionId',
    );
    this.deleteAll = database.prepare('DELETE FROM session_repository_tokens WHERE session_id = @sessionId');
  }

  put(sessionId: string, resourceId: string, sealedToken: string, at: string): Promise<void> {
    return settle(() => void this.upsert.run({ sessionId, resourceId, token: sealedToken, at }));
  }

  delete(sessionId: string, resourceId: string): Promise<boolean> {
    return settle(() => this.deleteOne.run({ sessionId, resourceId }).changes > 0);
  }

  deleteSession(sessionId: string): Promise<number> {
    return settle(() => this.deleteAll.run({ sessionId }).changes);
  }
}
