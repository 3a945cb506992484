import type { ApiKeyRepository, StoredApiKey } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';
import { toStoredApiKey } from './sqlite-api-key-repository';
import type { ApiKeyRow } from './sqlite-api-key-repository';

/** API keys in PostgreSQL (table `api_keys`, migration 3). */
export class PostgresApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async insert(key: StoredApiKey): Promise<void> {
    await this.database.query(
      `INSERT INTO api_keys (id, key_sha256, name, created_at, revoked_at, environment_id, workspace_id)
       VALUES ($1, $2, $3, $4, NULL, $5, $6) ON CONFLICT DO NOTHING`,
      [key.id, key.keySha256, key.name, key.createdAt, key.environmentId, key.workspaceId],
    );
  }

  async findActive(keySha256: string): Promise<StoredApiKey | null> {
    const { rows } = await this.database.query<ApiKeyRow>(
      'SELECT * FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL',
      [keySha256],
    );
    const row = rows[0];
    return row === undefined ? null : toStoredApiKey(row);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.database.query(
      'UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
      [id, at],
    );
    return (rowCount ?? 0) > 0;
  }

  async list(): Promise<StoredApiKey[]> {
    const { rows } = await this.database.query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toStoredApiKey);
  }
}
