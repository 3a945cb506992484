import type {
  CredentialInsertResult,
  CredentialListRequest,
  CredentialRepository,
  StoredCredential,
  StoredPage,
  StoredVault,
} from './control-plane-store';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
import { toParameters, toStoredCredential } from './sqlite-credential-repository';
import type { CredentialRow } from './sqlite-credential-repository';
import { toStoredVault } from './sqlite-vault-repository';
import type { VaultRow } from './sqlite-vault-repository';
import { parseCursor, toPage } from './store-pages';

type PostgresCredentialRow = Omit<CredentialRow, 'sequence'> & { sequence: string };

/** The columns an insert writes, each with the parameter of `toParameters` that holds its value. */
const INSERT_COLUMNS = [
  ['id', 'id'],
  ['vault_id', 'vaultId'],
  ['created_at', 'createdAt'],
  ['updated_at', 'updatedAt'],
  ['archived_at', 'archivedAt'],
  ['display_name', 'displayName'],
  ['metadata', 'metadata'],
  ['auth_type', 'authType'],
  ['mcp_server_url', 'mcpServerUrl'],
  ['mcp_server_key', 'mcpServerKey'],
  ['expires_at', 'expiresAt'],
  ['refresh', 'refresh'],
  ['access_token', 'accessToken'],
  ['refresh_token', 'refreshToken'],
  ['client_secret', 'clientSecret'],
  ['secret_name', 'secretName'],
  ['settings', 'settings'],
] as const;

/** The partial unique index that keeps one active credential per MCP server in a vault (migration 4). */
const ONE_ACTIVE_PER_SERVER = 'vault_credentials_one_active_per_server';

/** Vault credentials in PostgreSQL: one row each, the secrets sealed, at most one active credential per MCP server. */
export class PostgresCredentialRepository implements CredentialRepository {
  constructor(private readonly database: PostgresDatabase) {}

  insert(credential: StoredCredential): Promise<CredentialInsertResult> {
    return this.database.transaction(async (client): Promise<CredentialInsertResult> => {
      // The vault's row lock keeps it from being archived or deleted until the credential is in.
      const vault = await selectVault(client, credential.vaultId, true);
      if (vault === null) return 'vault_not_found';
      if (vault.archived_at !== null) return 'vault_archived';
      const values = toValues(credential);
      const placeholders = values.map((_, index) => `$${index + 1}`).join(', ');
      await client.query('SAVEPOINT insert_credential');
      try {
        await client.query(
          `INSERT INTO vault_credentials (${INSERT_COLUMNS.map(([column]) => column).join(', ')}) VALUES (${placeholders})`,
          values,
        );
      } catch (error) {
        if ((error as { constraint?: unknown }).constraint !== ONE_ACTIVE_PER_SERVER) throw error;
        await client.query('ROLLBACK TO SAVEPOINT insert_credential');
        return 'mcp_server_taken';
      }
      return 'inserted';
    });
  }

  get(vaultId: string, id: string): Promise<StoredCredential | null> {
    return read(this.database, vaultId, id, false);
  }

  async list(vaultId: string, request: CredentialListRequest): Promise<StoredPage<StoredCredential>> {
    const { rows } = await this.database.query<PostgresCredentialRow>(
      `SELECT * FROM vault_credentials
       WHERE vault_id = $1 AND ($2 OR archived_at IS NULL) AND ($3::bigint IS NULL OR sequence < $3)
       ORDER BY sequence DESC LIMIT $4`,
      [vaultId, request.includeArchived, parseCursor(request.cursor), request.limit + 1],
    );
    return toPage(rows, request.limit, toStoredCredential, (row) => toSequence(row.sequence));
  }

  update(
    vaultId: string,
    id: string,
    change: (current: StoredCredential, vault: StoredVault) => StoredCredential,
  ): Promise<StoredCredential | null> {
    return this.database.transaction(async (client) => {
      const vault = await selectVault(client, vaultId, false);
      const current = await read(client, vaultId, id, true);
      if (current === null || vault === null) return null;
      const parameters = toParameters({ ...change(current, toStoredVault(vault)), id, vaultId });
      await client.query(
        `UPDATE vault_credentials SET updated_at = $3, archived_at = $4, display_name = $5, metadata = $6,
           expires_at = $7, refresh = $8, access_token = $9, refresh_token = $10, client_secret = $11, settings = $12
         WHERE vault_id = $1 AND id = $2`,
        [
          vaultId,
          id,
          parameters['updatedAt'],
          parameters['archivedAt'],
          parameters['displayName'],
          parameters['metadata'],
          parameters['expiresAt'],
          parameters['refresh'],
          parameters['accessToken'],
          parameters['refreshToken'],
          parameters['clientSecret'],
          parameters['settings'],
        ],
      );
      return read(client, vaultId, id, false);
    });
  }

  async delete(vaultId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.database.query('DELETE FROM vault_credentials WHERE vault_id = $1 AND id = $2', [
      vaultId,
      id,
    ]);
    return (rowCount ?? 0) > 0;
  }
}

function toValues(credential: StoredCredential): unknown[] {
  const parameters = toParameters(credential);
  return INSERT_COLUMNS.map(([, name]) => parameters[name]);
}

async function selectVault(queries: PostgresQueries, id: string, lock: boolean): Promise<VaultRow | null> {
  const { rows } = await queries.query<VaultRow>(`SELECT * FROM vaults WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  return rows[0] ?? null;
}

async function read(
  queries: PostgresQueries,
  vaultId: string,
  id: string,
  lock: boolean,
): Promise<StoredCredential | null> {
  const { rows } = await queries.query<PostgresCredentialRow>(
    `SELECT * FROM vault_credentials WHERE vault_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [vaultId, id],
  );
  const row = rows[0];
  return row === undefined ? null : toStoredCredential(row);
}
