import type { ApiKeyChanges, ApiKeyRepository, NewApiKey, StoredApiKey } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';
import { toStoredApiKey } from './sqlite-api-key-repository';
import type { ApiKeyRow } from './sqlite-api-key-repository';

/** API keys in PostgreSQL (table `api_keys`, migrations 3, 5, 7 and 8). */
export class PostgresApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async insert(key: NewApiKey): Promise<void> {
    await this.database.query(
      `INSERT INTO api_keys (id, key_sha256, name, created_at, revoked_at, environment_id, workspace_id, admin)
       VALUES ($1, $2, $3, $4, NULL, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [key.id, key.keySha256, key.name, key.createdAt, key.environmentId, key.workspaceId, key.admin === true],
    );
  }

  async findActive(keySha256: string): Promise<StoredApiKey | null> {
    const { rows } = await this.database.query<ApiKeyRow>(
      "SELECT * FROM api_keys WHERE key_sha256 = $1 AND status = 'active'",
      [keySha256],
    );
    const row = rows[0];
    return row === undefined ? null : toStoredApiKey(row);
  }

  async get(id: string): Promise<StoredApiKey | null> {
    const { rows } = await this.database.query<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    const row = rows[0];
    return row === undefined ? null : toStoredApiKey(row);
  }

  async update(id: string, changes: ApiKeyChanges, at: string): Promise<StoredApiKey | null> {
    const { rows } = await this.database.query<ApiKeyRow>(
      `UPDATE api_keys SET name = COALESCE($2, name), status = COALESCE($3, status),
         revoked_at = CASE WHEN $3 = 'archived' THEN COALESCE(revoked_at, $4) ELSE revoked_at END
       WHERE id = $1 RETURNING *`,
      [id, changes.name ?? null, changes.status ?? null, at],
    );
    const row = rows[0];
    return row === undefined ? null : toStoredApiKey(row);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.database.query(
      "UPDATE api_keys SET status = 'archived', revoked_at = $2 WHERE id = $1 AND status <> 'archived'",
      [id, at],
    );
    return (rowCount ?? 0) > 0;
  }

  async list(): Promise<StoredApiKey[]> {
    const { rows } = await this.database.query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toStoredApiKey);
  }
}
