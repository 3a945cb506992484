import type pg from 'pg';
import { ACTIVE_CREDENTIAL_COLUMNS, ENVIRONMENT_VARIABLE_COLUMNS } from './sqlite-credential-resolver';
import type {
  CredentialRow,
  CredentialRows,
  EnvironmentVariableRow,
  RefreshedCredential,
} from './vault-credential-resolver';

/** Credential rows read from the server's PostgreSQL control plane; the pool belongs to the caller. */
export class PostgresCredentialRows implements CredentialRows {
  constructor(private readonly pool: pg.Pool) {}

  async findActive(vaultId: string, serverKey: string, workspaceId: string): Promise<CredentialRow | null> {
    const { rows } = await this.pool.query<CredentialRow>(
      `SELECT ${ACTIVE_CREDENTIAL_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
       WHERE c.vault_id = $1 AND c.mcp_server_key = $2 AND c.archived_at IS NULL AND v.archived_at IS NULL
         AND v.workspace_id = $3`,
      [vaultId, serverKey, workspaceId],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<CredentialRow | null> {
    const { rows } = await this.pool.query<CredentialRow>(
      `SELECT ${ACTIVE_CREDENTIAL_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
       WHERE c.id = $1 AND c.archived_at IS NULL AND v.archived_at IS NULL`,
      [id],
    );
    return rows[0] ?? null;
  }

  async findEnvironmentVariables(vaultIds: string[], workspaceId: string): Promise<EnvironmentVariableRow[]> {
    const { rows } = await this.pool.query<EnvironmentVariableRow>(
      `SELECT ${ENVIRONMENT_VARIABLE_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
       WHERE c.vault_id = ANY($1::text[]) AND c.auth_type = 'environment_variable' AND c.archived_at IS NULL
         AND v.archived_at IS NULL AND v.workspace_id = $2`,
      [vaultIds, workspaceId],
    );
    return rows;
  }

  async findEnvironmentVariablesById(ids: string[]): Promise<EnvironmentVariableRow[]> {
    const { rows } = await this.pool.query<EnvironmentVariableRow>(
      `SELECT ${ENVIRONMENT_VARIABLE_COLUMNS} FROM vault_credentials c JOIN vaults v ON v.id = c.vault_id
       WHERE c.id = ANY($1::text[]) AND c.auth_type = 'environment_variable' AND c.archived_at IS NULL
         AND v.archived_at IS NULL`,
      [ids],
    );
    return rows;
  }

  async storeRefreshed(refreshed: RefreshedCredential): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE vault_credentials SET access_token = $2, refresh_token = COALESCE($3, refresh_token), expires_at = $4,
         updated_at = $5
       WHERE id = $1 AND archived_at IS NULL AND access_token = $6`,
      [
        refreshed.id,
        refreshed.accessToken,
        refreshed.refreshToken,
        refreshed.expiresAt,
        refreshed.updatedAt,
        refreshed.previousAccessToken,
      ],
    );
    return (rowCount ?? 0) > 0;
  }

  close(): void {
    // The pool is the worker's, closed when the worker stops.
  }
}
