import type { Database, Statement } from 'better-sqlite3';
import { mcpServerUrlKey } from '../../common/mcp-server-url-key';
import type {
  CredentialInsertResult,
  CredentialListRequest,
  CredentialRepository,
  CredentialAuthView,
  EnvironmentVariableAuthView,
  McpOAuthAuthView,
  StoredCredential,
  StoredPage,
  StoredVault,
} from './control-plane-store';
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';
import { toStoredVault } from './sqlite-vault-repository';
import type { VaultRow } from './sqlite-vault-repository';

/**
 * A row of `vault_credentials`. The secret columns hold sealed text only (see `SealedCredentialSecrets`); the worker's
 * resolver reads and rewrites some of these columns directly (see migration 4), so their meaning is fixed.
 */
export interface CredentialRow {
  sequence: number;
  id: string;
  vault_id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  display_name: string | null;
  metadata: string;
  auth_type: 'static_bearer' | 'mcp_oauth' | 'environment_variable';
  /** `''` for an `environment_variable` credential. */
  mcp_server_url: string;
  /** `mcpServerUrlKey(mcp_server_url)`, or `environmentVariableKey(secret_name)` (one active credential per key). */
  mcp_server_key: string;
  expires_at: string | null;
  /** The non-secret refresh settings as JSON (`McpOAuthAuthView['refresh']`), or `NULL`. */
  refresh: string | null;
  access_token: string | null;
  refresh_token: string | null;
  client_secret: string | null;
  /** `environment_variable` only (migration 13). */
  secret_name: string | null;
  /** `environment_variable` only: `{ networking, injection_location }` as JSON. */
  settings: string | null;
}

/** Vault credentials in SQLite: one row each, the secrets sealed, at most one active credential per MCP server. */
export class SqliteCredentialRepository implements CredentialRepository {
  private readonly selectOne: Statement<[string, string], CredentialRow>;
  private readonly selectVault: Statement<[string], VaultRow>;
  private readonly selectPage: Statement<[Record<string, unknown>], CredentialRow>;
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly updateOne: Statement<[Record<string, unknown>]>;
  private readonly deleteOne: Statement<[string, string]>;

  constructor(private readonly database: Database) {
    this.selectOne = database.prepare('SELECT * FROM vault_credentials WHERE vault_id = ? AND id = ?');
    this.selectVault = database.prepare('SELECT * FROM vaults WHERE id = ?');
    this.selectPage = database.prepare(`
      SELECT * FROM vault_credentials
      WHERE vault_id = @vaultId AND (@includeArchived OR archived_at IS NULL)
        AND (@before IS NULL OR sequence < @before)
      ORDER BY sequence DESC LIMIT @limit`);
    this.insertOne = database.prepare(
      `INSERT INTO vault_credentials (id, vault_id, created_at, updated_at, archived_at, display_name, metadata,
         auth_type, mcp_server_url, mcp_server_key, expires_at, refresh, access_token, refresh_token, client_secret,
         secret_name, settings)
       VALUES (@id, @vaultId, @createdAt, @updatedAt, @archivedAt, @displayName, @metadata,
         @authType, @mcpServerUrl, @mcpServerKey, @expiresAt, @refresh, @accessToken, @refreshToken, @clientSecret,
         @secretName, @settings)`,
    );
    this.updateOne = database.prepare(
      `UPDATE vault_credentials SET updated_at = @updatedAt, archived_at = @archivedAt, display_name = @displayName,
         metadata = @metadata, expires_at = @expiresAt, refresh = @refresh, access_token = @accessToken,
         refresh_token = @refreshToken, client_secret = @clientSecret, settings = @settings
       WHERE vault_id = @vaultId AND id = @id`,
    );
    this.deleteOne = database.prepare('DELETE FROM vault_credentials WHERE vault_id = ? AND id = ?');
  }

  insert(credential: StoredCredential): Promise<CredentialInsertResult> {
    return settle(() =>
      this.database
        .transaction((): CredentialInsertResult => {
          const vault = this.selectVault.get(credential.vaultId);
          if (vault === undefined) return 'vault_not_found';
          if (vault.archived_at !== null) return 'vault_archived';
          try {
            this.insertOne.run(toParameters(credential));
          } catch (error) {
            if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'mcp_server_taken';
            throw error;
          }
          return 'inserted';
        })
        .immediate(),
    );
  }

  get(vaultId: string, id: string): Promise<StoredCredential | null> {
    return settle(() => this.read(vaultId, id));
  }

  list(vaultId: string, request: CredentialListRequest): Promise<StoredPage<StoredCredential>> {
    return settle(() => {
      const rows = this.selectPage.all({
        vaultId,
        includeArchived: request.includeArchived ? 1 : 0,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(rows, request.limit, toStoredCredential, (row) => row.sequence);
    });
  }

  update(
    vaultId: string,
    id: string,
    change: (current: StoredCredential, vault: StoredVault) => StoredCredential,
  ): Promise<StoredCredential | null> {
    return settle(() =>
      this.database
        .transaction((): StoredCredential | null => {
          const current = this.read(vaultId, id);
          const vault = this.selectVault.get(vaultId);
          if (current === null || vault === undefined) return null;
          this.updateOne.run(toParameters({ ...change(current, toStoredVault(vault)), id, vaultId }));
          return this.read(vaultId, id);
        })
        .immediate(),
    );
  }

  delete(vaultId: string, id: string): Promise<boolean> {
    return settle(() => this.deleteOne.run(vaultId, id).changes > 0);
  }

  private read(vaultId: string, id: string): StoredCredential | null {
    const row = this.selectOne.get(vaultId, id);
    return row === undefined ? null : toStoredCredential(row);
  }
}

/** The statement parameters of a credential, by name (the PostgreSQL store binds the same values in order). */
export function toParameters(credential: StoredCredential): Record<string, unknown> {
  const { auth, secrets } = credential;
  return {
    id: credential.id,
    vaultId: credential.vaultId,
    createdAt: credential.createdAt,
    updatedAt: credential.updatedAt,
    archivedAt: credential.archivedAt,
    displayName: credential.displayName,
    metadata: JSON.stringify(credential.metadata),
    authType: auth.type,
    mcpServerUrl: auth.type === 'environment_variable' ? '' : auth.mcp_server_url,
    mcpServerKey:
      auth.type === 'environment_variable'
        ? environmentVariableKey(auth.secret_name)
        : mcpServerUrlKey(auth.mcp_server_url),
    expiresAt: auth.type === 'mcp_oauth' ? auth.expires_at : null,
    refresh: auth.type === 'mcp_oauth' && auth.refresh !== null ? JSON.stringify(auth.refresh) : null,
    accessToken: secrets?.accessToken ?? null,
    refreshToken: secrets?.refreshToken ?? null,
    clientSecret: secrets?.clientSecret ?? null,
    secretName: auth.type === 'environment_variable' ? auth.secret_name : null,
    settings:
      auth.type === 'environment_variable'
        ? JSON.stringify({ networking: auth.networking, injection_location: auth.injection_location })
        : null,
  };
}

/**
 * The `mcp_server_key` of an `environment_variable` credential: no MCP server URL key looks like it (those start with
 * a URL scheme and `//`), so the one unique index keeps one active credential per MCP server and per variable name.
 */
export function environmentVariableKey(secretName: string): string {
  return `environment_variable:${secretName}`;
}

/** The `auth` a row stores. */
function authOf(row: Omit<CredentialRow, 'sequence'>): CredentialAuthView {
  if (row.auth_type === 'static_bearer') return { type: 'static_bearer', mcp_server_url: row.mcp_server_url };
  if (row.auth_type === 'environment_variable') {
    const settings = JSON.parse(row.settings ?? '{}') as Pick<
      EnvironmentVariableAuthView,
      'networking' | 'injection_location'
    >;
    return {
      type: 'environment_variable',
      secret_name: row.secret_name ?? '',
      networking: settings.networking,
      injection_location: settings.injection_location,
    };
  }
  return {
    type: 'mcp_oauth',
    mcp_server_url: row.mcp_server_url,
    expires_at: row.expires_at,
    refresh: row.refresh === null ? null : (JSON.parse(row.refresh) as McpOAuthAuthView['refresh']),
  };
}

/** A credential read from its row (the PostgreSQL store's rows have the same columns). */
export function toStoredCredential(row: Omit<CredentialRow, 'sequence'>): StoredCredential {
  return {
    id: row.id,
    vaultId: row.vault_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    displayName: row.display_name,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    auth: authOf(row),
    secrets:
      row.access_token === null
        ? null
        : { accessToken: row.access_token, refreshToken: row.refresh_token, clientSecret: row.client_secret },
  };
}
