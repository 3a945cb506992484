import type { Database, Statement } from 'better-sqlite3';
import type { ApiKeyRepository, StoredApiKey } from './control-plane-store';
import { settle } from './sqlite-database';

export interface ApiKeyRow {
  id: string;
  key_sha256: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  environment_id: string | null;
  workspace_id: string;
}

/** API keys in the embedded SQLite store (table `api_keys`, migration 3). */
export class SqliteApiKeyRepository implements ApiKeyRepository {
  private readonly insertOne: Statement;
  private readonly selectActive: Statement<{ keySha256: string }, ApiKeyRow>;
  private readonly revokeOne: Statement;
  private readonly selectAll: Statement<[], ApiKeyRow>;

  constructor(database: Database) {
    this.insertOne = database.prepare(
      'INSERT OR IGNORE INTO api_keys (id, key_sha256, name, created_at, revoked_at, environment_id, workspace_id) ' +
        'VALUES (@id, @keySha256, @name, @createdAt, NULL, @environmentId, @workspaceId)',
    );
    this.selectActive = database.prepare('SELECT * FROM api_keys WHERE key_sha256 = @keySha256 AND revoked_at IS NULL');
    this.revokeOne = database.prepare('UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL');
    this.selectAll = database.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
  }

  insert(key: StoredApiKey): Promise<void> {
    return settle(
      () =>
        void this.insertOne.run({
          id: key.id,
          keySha256: key.keySha256,
          name: key.name,
          createdAt: key.createdAt,
          environmentId: key.environmentId,
          workspaceId: key.workspaceId,
        }),
    );
  }

  findActive(keySha256: string): Promise<StoredApiKey | null> {
    return settle(() => {
      const row = this.selectActive.get({ keySha256 });
      return row === undefined ? null : toStoredApiKey(row);
    });
  }

  revoke(id: string, at: string): Promise<boolean> {
    return settle(() => this.revokeOne.run({ id, at }).changes > 0);
  }

  list(): Promise<StoredApiKey[]> {
    return settle(() => this.selectAll.all().map(toStoredApiKey));
  }
}

/** An API key read from its row (the PostgreSQL store's rows have the same columns). */
export function toStoredApiKey(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    keySha256: row.key_sha256,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    environmentId: row.environment_id,
    workspaceId: row.workspace_id,
  };
}
