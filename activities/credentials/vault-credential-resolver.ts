import { credentialSecretContext } from '../../common/credential-secret-context';
import type { CredentialSecretField } from '../../common/credential-secret-context';
import type { CredentialResolver } from '../../common/credentials';
import { mcpServerUrlKey } from '../../common/mcp-server-url-key';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { openSecret, sealSecret } from '../../common/secret-box';
import { CredentialRefreshError, refreshAccessToken } from './refresh-access-token';
import type { TokenEndpointAuthMethod } from './refresh-access-token';

/**
 * The columns of `vault_credentials` (created by the server's migration 4) that the resolver reads. It also relies
 * on `vaults (id, archived_at)`, and writes `access_token`, `refresh_token`, `expires_at` and `updated_at` after a
 * refresh. Secrets are sealed with `sealSecret` under `credentialSecretContext(id, column)`.
 */
export interface CredentialRow {
  id: string;
  auth_type: 'static_bearer' | 'mcp_oauth' | 'environment_variable';
  /** RFC 3339, or `NULL` when the expiry is unknown. */
  expires_at: string | null;
  /** JSON: `{ client_id, token_endpoint, token_endpoint_auth: { type }, resource, scope }`, or `NULL`. */
  refresh: string | null;
  access_token: string;
  refresh_token: string | null;
  client_secret: string | null;
}

/** An active `environment_variable` credential's row: `access_token` holds its sealed `secret_value`. */
export interface EnvironmentVariableRow {
  id: string;
  vault_id: string;
  secret_name: string;
  /** JSON: `{ networking, injection_location }` as the API shows them. */
  settings: string;
  access_token: string;
}

/** The non-secret refresh settings of an `mcp_oauth` credential, as the server stores them. */
interface RefreshSettings {
  client_id: string;
  token_endpoint: string;
  token_endpoint_auth: { type: TokenEndpointAuthMethod };
  resource: string | null;
  scope: string | null;
}

/** What a refresh writes: the new sealed tokens, only if `previousAccessToken` is still the stored (sealed) one. */
export interface RefreshedCredential {
  id: string;
  previousAccessToken: string;
  accessToken: string;
  /** `null`: keep the stored refresh token (the endpoint did not rotate it). */
  refreshToken: string | null;
  expiresAt: string | null;
  updatedAt: string;
}

/**
 * Where the resolver reads and writes credential rows: the control-plane store's tables `vaults` and
 * `vault_credentials` (migration 4), on SQLite or PostgreSQL. Reads leave archived vaults and credentials out.
 */
export interface CredentialRows {
  /**
   * The active credential of `vaultId` for the MCP server whose `mcpServerUrlKey` is `serverKey`, when the vault
   * belongs to `workspaceId` (column `vaults.workspace_id`, migration 7).
   */
  findActive(vaultId: string, serverKey: string, workspaceId: string): Promise<CredentialRow | null>;
  /** The active credential `id`. */
  findById(id: string): Promise<CredentialRow | null>;
  /**
   * The active `environment_variable` credentials of the vaults `vaultIds` of `workspaceId` (columns `secret_name`,
   * `settings`, migration 13), in no particular order.
   */
  findEnvironmentVariables(vaultIds: string[], workspaceId: string): Promise<EnvironmentVariableRow[]>;
  /** Those of the credentials `ids` that are active `environment_variable` credentials of active vaults. */
  findEnvironmentVariablesById(ids: string[]): Promise<EnvironmentVariableRow[]>;
  /** Stores a refresh's tokens; `false` when the credential changed meanwhile (nothing written). */
  storeRefreshed(refreshed: RefreshedCredential): Promise<boolean>;
  /** Closes what the rows were read through; a later call opens it again. */
  close(): void;
}

/** What the resolver is built from. */
export interface VaultCredentialResolverOptions {
  /** The credential rows of the server's store. */
  rows: CredentialRows;
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

/**
 * The worker's `CredentialResolver`: reads vault credentials from the server's store, opens their secrets, and
 * refreshes an `mcp_oauth` access token that has expired or is about to (storing the new tokens sealed). One refresh
 * per credential runs at a time in this process; across processes, a refresh writes only if the token it replaced is
 * still the stored one, so concurrent refreshes never overwrite a newer token. Archived vaults and credentials are
 * ignored.
 */
export class VaultCredentialResolver implements CredentialResolver {
  private readonly refreshing = new Map<string, Promise<string | null>>();
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(private readonly options: VaultCredentialResolverOptions) {
    this.refreshMarginMs = options.refreshMarginMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  async mcpBearerToken(
    vaultIds: string[],
    mcpServerUrl: string,
    workspaceId = DEFAULT_WORKSPACE_ID,
  ): Promise<string | null> {
    if (vaultIds.length === 0) return null;
    const serverKey = mcpServerUrlKey(mcpServerUrl);
    for (const vaultId of vaultIds) {
      const row = await this.options.rows.findActive(vaultId, serverKey, workspaceId);
      if (row !== null) return this.tokenOf(row);
    }
    return null;
  }

  /** Closes the rows' database connection; a later call opens it again. */
  close(): void {
    this.options.rows.close();
  }

  private async tokenOf(row: CredentialRow): Promise<string | null> {
    if (row.auth_type === 'static_bearer' || this.isFresh(row))
      return this.reveal(row.id, 'access_token', row.access_token);
    const running = this.refreshing.get(row.id);
    if (running !== undefined) return running;
    const refresh = this.refresh(row).finally(() => this.refreshing.delete(row.id));
    this.refreshing.set(row.id, refresh);
    return refresh;
  }

  private isFresh(row: CredentialRow): boolean {
    return row.expires_at === null || Date.parse(row.expires_at) - this.now() > this.refreshMarginMs;
  }

  /** Refreshes the credential's access token and stores the result; `null` when the credential went away meanwhile. */
  private async refresh(row: CredentialRow): Promise<string | null> {
    const describe = `Vault credential ${row.id}`;
    if (row.refresh === null || row.refresh_token === null) {
      throw new CredentialRefreshError(
        `${describe}: its access token has expired and it has no refresh token; update it with a new access_token.`,
        false,
      );
    }
    const settings = JSON.parse(row.refresh) as RefreshSettings;
    const startedAt = this.now();
    let result;
    try {
      result = await refreshAccessToken(
        {
          tokenEndpoint: settings.token_endpoint,
          clientId: settings.client_id,
          method: settings.token_endpoint_auth.type,
          clientSecret: row.client_secret === null ? null : this.reveal(row.id, 'client_secret', row.client_secret),
          refreshToken: this.reveal(row.id, 'refresh_token', row.refresh_token),
          scope: settings.scope,
          resource: settings.resource,
          timeoutMs: this.options.refreshTimeoutMs ?? 10_000,
          fetch: this.options.fetch ?? fetch,
        },
        describe,
      );
    } catch (error) {
      // Another process may have refreshed first (and, with rotating refresh tokens, made ours invalid): use its token.
      const latest = await this.options.rows.findById(row.id);
      if (latest !== null && latest.access_token !== row.access_token && this.isFresh(latest)) {
        return this.reveal(latest.id, 'access_token', latest.access_token);
      }
      throw error;
    }
    const expiresAt =
      result.expiresInSeconds === null ? null : new Date(startedAt + result.expiresInSeconds * 1000).toISOString();
    const stored = await this.options.rows.storeRefreshed({
      id: row.id,
      previousAccessToken: row.access_token,
      accessToken: sealSecret(
        this.options.secretKey,
        result.accessToken,
        credentialSecretContext(row.id, 'access_token'),
      ),
      refreshToken:
        result.refreshToken === null
          ? null
          : sealSecret(this.options.secretKey, result.refreshToken, credentialSecretContext(row.id, 'refresh_token')),
      expiresAt,
      updatedAt: new Date(this.now()).toISOString(),
    });
    if (stored) return result.accessToken;
    // The credential changed meanwhile (updated, archived, deleted or refreshed elsewhere): the store decides.
    const latest = await this.options.rows.findById(row.id);
    if (latest === null) return null;
    return this.isFresh(latest) ? this.reveal(latest.id, 'access_token', latest.access_token) : result.accessToken;
  }

  private reveal(credentialId: string, field: CredentialSecretField, sealed: string): string {
    return openSecret(this.options.secretKey, sealed, credentialSecretContext(credentialId, field));
  }
}
