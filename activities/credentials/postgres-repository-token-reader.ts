import type pg from 'pg';
import { repositoryTokenContext } from '../../common/credential-secret-context';
import type { RepositoryTokenReader } from '../../common/credentials';
import { openSecret } from '../../common/secret-box';

/**
 * The worker's `RepositoryTokenReader` on the PostgreSQL control plane: the twin of `SqliteRepositoryTokenReader`
 * (table `session_repository_tokens`, migration 6). It only reads; the pool belongs to the caller.
 */
export class PostgresRepositoryTokenReader implements RepositoryTokenReader {
  constructor(
    private readonly pool: pg.Pool,
    private readonly secretKey: Uint8Array,
  ) {}

  async repositoryToken(sessionId: string, resourceId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ token: string }>(
      'SELECT token FROM session_repository_tokens WHERE resource_id = $1 AND session_id = $2',
      [resourceId, sessionId],
    );
    const row = rows[0];
    return row === undefined
      ? null
      : openSecret(this.secretKey, row.token, repositoryTokenContext(sessionId, resourceId));
  }

  close(): void {
    // The pool is the worker's, closed when the worker stops.
  }
}
