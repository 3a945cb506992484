import type {
  BetaManagedAgentsCredentialValidation,
  BetaManagedAgentsCredentialValidationStatus,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { credentialSecretContext } from '../../../common/credential-secret-context';
import type { CredentialSecretField } from '../../../common/credential-secret-context';
import type { RefreshGrantTokens } from '../../../common/oauth-refresh-grant';
import { SecretBoxError, openSecret, sealSecret } from '../../../common/secret-box';
import { ApiError } from '../../api-error';
import { requireResourceId } from '../../resource-ids';
import type {
  ControlPlaneStore,
  McpOAuthAuthView,
  SealedCredentialSecrets,
  StoredCredential,
} from '../../store/control-plane-store';
import { vaultNotFound } from '../vault-service';
import { probeMcpServer } from './mcp-credential-probe';
import type { McpProbeResult } from './mcp-credential-probe';
import { exchangeRefreshToken } from './token-refresh-exchange';

/** Limits of a validation. */
export interface CredentialValidationOptions {
  /** Deadline of one MCP probe (`initialize`, `tools/list`); 15 s by default. */
  probeTimeoutMs?: number;
  /** Deadline of the refresh-token exchange; 10 s by default, as the worker's refresh. */
  refreshTimeoutMs?: number;
}

/** An active `mcp_oauth` credential with its secrets, opened: they live for one validation only. */
interface OpenedCredential {
  credential: StoredCredential & { auth: McpOAuthAuthView; secrets: SealedCredentialSecrets };
  accessToken: string;
  refreshToken: string | null;
  clientSecret: string | null;
}

/** The verdict parts of a validation answer. */
type Verdict = Pick<BetaManagedAgentsCredentialValidation, 'status' | 'mcp_probe' | 'refresh'>;

/**
 * `vaults.credentials.mcpOAuthValidate`: live-probes an active `mcp_oauth` credential's MCP server with its access token
 * (`probeMcpServer`). On a 401 it exchanges the stored refresh token at the token endpoint, stores the new tokens sealed
 * (only if the credential still holds the access token the probe used, as the worker's refresh does) and probes again
 * with the new token, so a successful refresh ends `valid` or `invalid`, not `unknown`. Verdicts: `valid` when
 * `tools/list` answered; `invalid` when the server refused the token (401 or 403) and no refresh recovered it, or the
 * token endpoint refused the grant (4xx or an unusable answer); `unknown` when the server or the token endpoint could
 * not be reached, timed out, answered 429 or 5xx or broke the protocol, or the credential changed during the
 * validation. No token is ever returned or logged: captured response bodies are scrubbed.
 */
export class CredentialValidationService {
  private readonly probeTimeoutMs: number;
  private readonly refreshTimeoutMs: number;

  constructor(
    private readonly store: ControlPlaneStore,
    private readonly secretKey: Uint8Array | undefined,
    options: CredentialValidationOptions = {},
  ) {
    this.probeTimeoutMs = options.probeTimeoutMs ?? 15_000;
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? 10_000;
  }

  /**
   * Validates the credential; 404 for an unknown vault or credential, 400 for a credential that is not `mcp_oauth` or
   * is archived (or in an archived vault, whose credentials no session uses).
   */
  async validate(vaultId: string, credentialId: string): Promise<BetaManagedAgentsCredentialValidation> {
    requireResourceId('vault', vaultId, 'vault_id');
    requireResourceId('credential', credentialId, 'credential_id');
    const validatedAt = new Date().toISOString();
    const opened = await this.open(vaultId, credentialId);
    const verdict = await this.verdict(opened);
    return {
      type: 'vault_credential_validation',
      credential_id: credentialId,
      vault_id: vaultId,
      has_refresh_token: opened.refreshToken !== null,
      validated_at: validatedAt,
      ...verdict,
    };
  }

  private async verdict(opened: OpenedCredential): Promise<Verdict> {
    const { credential } = opened;
    const secrets = [opened.refreshToken, opened.clientSecret];
    const first = await this.probe(credential.auth.mcp_server_url, opened.accessToken, secrets);
    if (first.outcome === 'accepted') return { status: 'valid', mcp_probe: null, refresh: null };
    if (first.outcome === 'inconclusive') return { status: 'unknown', mcp_probe: first.failure, refresh: null };
    if (first.status === 403) return { status: 'invalid', mcp_probe: first.failure, refresh: null };
    const settings = credential.auth.refresh;
    if (settings === null || opened.refreshToken === null) {
      return {
        status: 'invalid',
        mcp_probe: first.failure,
        refresh: { status: 'no_refresh_token', http_response: null },
      };
    }
    const startedAt = Date.now();
    const exchange = await exchangeRefreshToken({
      tokenEndpoint: settings.token_endpoint,
      clientId: settings.client_id,
      method: settings.token_endpoint_auth.type,
      clientSecret: opened.clientSecret,
      refreshToken: opened.refreshToken,
      scope: settings.scope,
      resource: settings.resource,
      timeoutMs: this.refreshTimeoutMs,
    });
    if (exchange.refresh.status === 'connect_error') {
      return { status: 'unknown', mcp_probe: first.failure, refresh: exchange.refresh };
    }
    if (!('tokens' in exchange)) {
      const status = 'retryable' in exchange && exchange.retryable ? 'unknown' : 'invalid';
      return { status, mcp_probe: first.failure, refresh: exchange.refresh };
    }
    const stored = await this.storeRefreshed(credential, exchange.tokens, startedAt);
    // Another writer (an update, an archive, the worker's own refresh) got there first: this validation cannot say.
    if (!stored) return { status: 'unknown', mcp_probe: first.failure, refresh: exchange.refresh };
    const allSecrets = [opened.accessToken, exchange.tokens.refreshToken, ...secrets];
    const second = await this.probe(credential.auth.mcp_server_url, exchange.tokens.accessToken, allSecrets);
    const status: BetaManagedAgentsCredentialValidationStatus =
      second.outcome === 'accepted' ? 'valid' : second.outcome === 'rejected' ? 'invalid' : 'unknown';
    return { status, mcp_probe: second.outcome === 'accepted' ? null : second.failure, refresh: exchange.refresh };
  }

  private probe(url: string, accessToken: string, otherSecrets: Array<string | null>): Promise<McpProbeResult> {
    return probeMcpServer({ url, accessToken, otherSecrets, timeoutMs: this.probeTimeoutMs });
  }

  /**
   * Writes the new tokens sealed, with `expires_at` from `expires_in` (counted from when the exchange started), only
   * if the credential is still active and holds the sealed access token the validation read; `false` otherwise.
   */
  private async storeRefreshed(
    read: OpenedCredential['credential'],
    tokens: RefreshGrantTokens,
    startedAt: number,
  ): Promise<boolean> {
    const key = this.requireKey();
    const seal = (plaintext: string, field: CredentialSecretField): string =>
      sealSecret(key, plaintext, credentialSecretContext(read.id, field));
    const expiresAt =
      tokens.expiresInSeconds === null ? null : new Date(startedAt + tokens.expiresInSeconds * 1000).toISOString();
    let stored = false;
    await this.store.credentials.update(read.vaultId, read.id, (current, vault) => {
      const unchanged =
        vault.archivedAt === null &&
        current.archivedAt === null &&
        current.auth.type === 'mcp_oauth' &&
        current.secrets?.accessToken === read.secrets.accessToken;
      if (!unchanged || current.auth.type !== 'mcp_oauth' || current.secrets === null) return current;
      stored = true;
      return {
        ...current,
        updatedAt: new Date().toISOString(),
        auth: { ...current.auth, expires_at: expiresAt },
        secrets: {
          ...current.secrets,
          accessToken: seal(tokens.accessToken, 'access_token'),
          refreshToken:
            tokens.refreshToken === null ? current.secrets.refreshToken : seal(tokens.refreshToken, 'refresh_token'),
        },
      };
    });
    return stored;
  }

  /** The credential with its secrets opened, or the 404 or 400 that refuses the validation. */
  private async open(vaultId: string, credentialId: string): Promise<OpenedCredential> {
    const vault = await this.store.vaults.get(vaultId);
    if (vault === null) throw vaultNotFound(vaultId);
    const credential = await this.store.credentials.get(vaultId, credentialId);
    if (credential === null)
      throw new ApiError('not_found_error', `No credential ${credentialId} in vault ${vaultId}.`);
    if (credential.auth.type !== 'mcp_oauth') {
      throw new ApiError(
        'invalid_request_error',
        `credential_id: credential ${credentialId} is a ${credential.auth.type} credential; only mcp_oauth ` +
          'credentials can be validated.',
      );
    }
    if (credential.archivedAt !== null || credential.secrets === null) {
      throw new ApiError(
        'invalid_request_error',
        `credential_id: credential ${credentialId} is archived; its secrets are erased, so there is nothing to validate.`,
      );
    }
    if (vault.archivedAt !== null) {
      throw new ApiError(
        'invalid_request_error',
        `vault_id: vault ${vaultId} is archived; no session uses its credentials, so they are not validated.`,
      );
    }
    const key = this.requireKey();
    const secrets = credential.secrets;
    const reveal = (field: CredentialSecretField, sealed: string): string => {
      try {
        return openSecret(key, sealed, credentialSecretContext(credentialId, field));
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        throw new ApiError(
          'api_error',
          `The secrets of credential ${credentialId} do not open with this server's secret key (KEEL_SECRET_KEY).`,
        );
      }
    };
    return {
      credential: { ...credential, auth: credential.auth, secrets },
      accessToken: reveal('access_token', secrets.accessToken),
      refreshToken:
        credential.auth.refresh === null || secrets.refreshToken === null
          ? null
          : reveal('refresh_token', secrets.refreshToken),
      clientSecret: secrets.clientSecret === null ? null : reveal('client_secret', secrets.clientSecret),
    };
  }

  private requireKey(): Uint8Array {
    if (this.secretKey === undefined) {
      throw new ApiError('api_error', 'This server has no secret key (KEEL_SECRET_KEY) to open vault secrets with.');
    }
    return this.secretKey;
  }
}
