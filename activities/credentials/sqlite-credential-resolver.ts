import path from 'node:path';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { openControlPlaneFile } from '../control-plane-file';
import { VaultCredentialResolver } from './vault-credential-resolver';
import type {
  CredentialRow,
  CredentialRows,
  EnvironmentVariableRow,
  RefreshedCredential,
} from './vault-credential-resolver';

/**
 * The control-plane store's file in the data folder. The server owns it (`storeFilePath` in
 * server/store/open-sqlite-store.ts, which this zone may not import); both must name the same file.
 */
export function credentialStoreFile(dataDir: string): string {
  return path.join(dataDir, 'keel.sqlite');
}

/** The columns of an active credential the resolver reads, from `vault_credentials c` joined to `vaults v`. */
export const ACTIVE_CREDENTIAL_COLUMNS =
  'c.id, c.auth_type, c.expires_at, c.refresh, c.access_token, c.refresh_token, c.client_secret';

/** The columns of an active `environment_variable` credential, from `vault_credentials c`. */
export const ENVIRONMENT_VARIABLE_COLUMNS = 'c.id, c.vault_id, c.secret_name, c.settings, c.access_token';

/** Credential rows read from the server's SQLite file (opened on first use, since the server creates it). */
export class SqliteCredentialRows implements CredentialRows {
  private statements: {
    findActive: Statement<[string, string, string], CredentialRow>;
    findById: Statement<[string], CredentialRow>;
    findEnvironmentVariables: Statement<[string, string], EnvironmentVariableRow>;
    findEnvironmentVariablesById: Statement<[string], EnvironmentVariableRow>;
    storeRefreshed: Statement<[RefreshedCredential]>;
  } | null = null;
  private database: SqliteDatabase | null = null;

  constructor(private readonly filename: string) {}

  findActive(vaultId: string, serverKey: string, workspaceId: string): Promise<CredentialRow | null> {
    return new Promise((resolve) => resolve(this.open().findActive.get(vaultId, serverKey, workspaceId) ?? null));
  }

  findById(id: string): Promise<CredentialRow | null> {
    return new Promise((resolve) => resolve(this.open().findById.get(id) ?? null));
  }

  findEnvironmentVariables(vaultIds: string[], workspaceId: string): Promise<EnvironmentVariableRow[]> {
    return new Promise((resolve) =>
      resolve(this.open().findEnvironmentVariables.all(JSON.stringify(vaultIds), workspaceId)),
    );
  }

  findEnvironmentVariablesById(ids: string[]): Promise<EnvironmentVariableRow[]> {
    return new Promise((resolve) => resolve(this.open().findEnvironmentVariablesById.all(JSON.stringify(ids))));
  }

  storeRefreshed(refreshed: RefreshedCredential): Promise<boolean> {
    return new Promise((resolve) => resolve(this.open().storeRefreshed.run(refreshed).changes > 0));
  }

  close(): void {
    this.database?.close();
    this.database = null;
    this.statements = null;
  }

  private open(): NonNullable<SqliteCredentialRows['statements']> {
    if (this.statements !== null) return this.statements;
    const database = openControlPlaneFile(this.filename, 'read vault credentials');
    try {
      this.statements = {
        findActive: database.prepare(
          `SELECT ${ACTIVE_CREDENTIAL_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
           WHERE c.vault_id = ? AND c.mcp_server_key = ? AND c.archived_at IS NULL AND v.archived_at IS NULL
             AND v.workspace_id = ?`,
        ),
        findById: database.prepare(
          `SELECT ${ACTIVE_CREDENTIAL_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
           WHERE c.id = ? AND c.archived_at IS NULL AND v.archived_at IS NULL`,
        ),
        findEnvironmentVariables: database.prepare(
          `SELECT ${ENVIRONMENT_VARIABLE_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
           WHERE c.vault_id IN (SELECT value FROM json_each(?)) AND c.auth_type = 'environment_variable'
             AND c.archived_at IS NULL AND v.archived_at IS NULL AND v.workspace_id = ?`,
        ),
        findEnvironmentVariablesById: database.prepare(
          `SELECT ${ENVIRONMENT_VARIABLE_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
           WHERE c.id IN (SELECT value FROM json_each(?)) AND c.auth_type = 'environment_variable'
             AND c.archived_at IS NULL AND v.archived_at IS NULL`,
        ),
        storeRefreshed: database.prepare(
          `UPDATE vault_credentials SET access_token = @accessToken,
             refresh_token = COALESCE(@refreshToken, refresh_token), expires_at = @expiresAt, updated_at = @updatedAt
           WHERE id = @id AND archived_at IS NULL AND access_token = @previousAccessToken`,
        ),
      };
    } catch (error) {
      database.close();
      throw new Error(
        `The control-plane store at ${this.filename} has no vault tables (${(error as Error).message}): ` +
          'start a Keel server of this version on it first.',
        { cause: error },
      );
    }
    this.database = database;
    return this.statements;
  }
}

/** What the SQLite resolver is built from. */
export interface SqliteCredentialResolverOptions {
  /** The control-plane store file: `credentialStoreFile(KEEL_DATA_DIR)`. */
  filename: string;
  /** The key the server sealed the secrets with (`resolveSecretKey`). */
  secretKey: Uint8Array;
  /** An access token expiring within this many milliseconds is refreshed first; 30 s by default. */
  refreshMarginMs?: number;
  /** How long the token endpoint may take; 10 s by default. */
  refreshTimeoutMs?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** The worker's credential resolver on the embedded store: `VaultCredentialResolver` over the SQLite file. */
export class SqliteCredentialResolver extends VaultCredentialResolver {
  constructor(options: SqliteCredentialResolverOptions) {
    const { filename, ...rest } = options;
    super({ ...rest, rows: new SqliteCredentialRows(filename) });
  }
}
