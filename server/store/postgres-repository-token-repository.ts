import type { RepositoryTokenRepository } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';

/** Sealed repository tokens in PostgreSQL (table `session_repository_tokens`, migration 6). */
export class PostgresRepositoryTokenRepository implements RepositoryTokenRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async put(sessionId: string, resourceId: string, sealedToken: string, at: string): Promise<void> {
    await this.database.query(
      `INSERT INTO session_repository_tokens (resource_id, session_id, token, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (resource_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at
       WHERE session_repository_tokens.session_id = excluded.session_id`,
      [resourceId, sessionId, sealedToken, at],
    );
  }

  async delete(sessionId: string, resourceId: string): Promise<boolean> {
    const { rowCount } = await this.database.query(
      'DELETE FROM session_repository_tokens WHERE resource_id = $1 AND session_id = $2',
      [resourceId, sessionId],
    );
    return (rowCount ?? 0) > 0;
  }

  async deleteSession(sessionId: string): Promise<number> {
    const { rowCount } = await this.database.query('DELETE FROM session_repository_tokens WHERE session_id = $1', [
      sessionId,
    ]);
    return rowCount ?? 0;
  }
}
