import type { Database, Statement } from 'better-sqlite3';
import type { ApiKeyChanges, ApiKeyRepository, ApiKeyStatus, NewApiKey, StoredApiKey } from './control-plane-store';
import { settle } from './sqlite-database';

/** A row of the `api_keys` table (the PostgreSQL store's rows have the same columns; `admin` is a boolean there). */
export interface ApiKeyRow {
  id: string;
  key_sha256: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  environment_id: string | null;
  workspace_id: string;
  admin: number | boolean;
  status: ApiKeyStatus;
}

/** API keys in the embedded SQLite store (table `api_keys`, migrations 3, 5, 7 and 8). */
export class SqliteApiKeyRepository implements ApiKeyRepository {
  private readonly insertOne: Statement;
  private readonly selectActive: Statement<{ keySha256: string }, ApiKeyRow>;
  private readonly selectById: Statement<[string], ApiKeyRow>;
  private readonly updateOne: Statement;
  private readonly revokeOne: Statement;
  private readonly selectAll: Statement<[], ApiKeyRow>;

  constructor(database: Database) {
    this.insertOne = database.prepare(
      'INSERT OR IGNORE INTO api_keys (id, key_sha256, name, created_at, revoked_at, environment_id, workspace_id, admin) ' +
        'VALUES (@id, @keySha256, @name, @createdAt, NULL, @environmentId, @workspaceId, @admin)',
    );
    this.selectActive = database.prepare("SELECT * FROM api_keys WHERE key_sha256 = @keySha256 AND status = 'active'");
    this.selectById = database.prepare('SELECT * FROM api_keys WHERE id = ?');
    this.updateOne = database.prepare(
      'UPDATE api_keys SET name = COALESCE(@name, name), status = COALESCE(@status, status), ' +
        "revoked_at = CASE WHEN @status = 'archived' THEN COALESCE(revoked_at, @at) ELSE revoked_at END WHERE id = @id",
    );
    this.revokeOne = database.prepare(
      "UPDATE api_keys SET status = 'archived', revoked_at = @at WHERE id = @id AND status <> 'archived'",
    );
    this.selectAll = database.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
  }

  insert(key: NewApiKey): Promise<void> {
    return settle(
      () =>
        void this.insertOne.run({
          id: key.id,
          keySha256: key.keySha256,
          name: key.name,
          createdAt: key.createdAt,
          environmentId: key.environmentId,
          workspaceId: key.workspaceId,
          admin: key.admin === true ? 1 : 0,
        }),
    );
  }

  findActive(keySha256: string): Promise<StoredApiKey | null> {
    return settle(() => {
      const row = this.selectActive.get({ keySha256 });
      return row === undefined ? null : toStoredApiKey(row);
    });
  }

  get(id: string): Promise<StoredApiKey | null> {
    return settle(() => {
      const row = this.selectById.get(id);
      return row === undefined ? null : toStoredApiKey(row);
    });
  }

  update(id: string, changes: ApiKeyChanges, at: string): Promise<StoredApiKey | null> {
    return settle(() => {
      this.updateOne.run({ id, name: changes.name ?? null, status: changes.status ?? null, at });
      const row = this.selectById.get(id);
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
    admin: row.admin === true || row.admin === 1,
    status: row.status,
  };
}
