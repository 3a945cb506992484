import { createHmac } from 'node:crypto';

import type { BetaManagedAgentsEnvironmentVariableAuthResponse } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';

import { credentialSecretContext } from '../../common/credential-secret-context';
import type { EnvironmentSecretResolver, SandboxSecretVariable, SecretSubstitution } from '../../common/credentials';
import { openSecret } from '../../common/secret-box';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import type { CredentialRows, EnvironmentVariableRow } from './vault-credential-resolver';

/** What the reader is built from. */
export interface EnvironmentSecretReaderOptions {
  /** The credential rows of the server's store. */
  rows: CredentialRows;
  /** The key the server sealed the secrets with (`resolveSecretKey`). */
  secretKey: Uint8Array;
}

type Settings = Pick<BetaManagedAgentsEnvironmentVariableAuthResponse, 'networking' | 'injection_location'>;

/**
 * The worker's `EnvironmentSecretResolver` over the server's store. A credential's placeholder is derived, not
 * stored: `keel_placeholder_` and an HMAC-SHA256 of the credential id under the secret key, so it is the same for
 * every container and worker, names nothing of the secret, and cannot be guessed without the key. Secrets are opened
 * only in `secretSubstitutions`, which the egress proxy calls per request and does not keep.
 */
export class EnvironmentSecretReader implements EnvironmentSecretResolver {
  constructor(private readonly options: EnvironmentSecretReaderOptions) {}

  async sandboxSecretVariables(
    vaultIds: string[],
    workspaceId = DEFAULT_WORKSPACE_ID,
  ): Promise<SandboxSecretVariable[]> {
    if (vaultIds.length === 0) return [];
    const rows = await this.options.rows.findEnvironmentVariables(vaultIds, workspaceId);
    const byName = new Map<string, EnvironmentVariableRow>();
    for (const vaultId of vaultIds) {
      for (const row of rows) {
        if (row.vault_id === vaultId && !byName.has(row.secret_name)) byName.set(row.secret_name, row);
      }
    }
    return [...byName.values()]
      .sort((left, right) => left.secret_name.localeCompare(right.secret_name))
      .map((row) => ({ credentialId: row.id, secretName: row.secret_name, placeholder: this.placeholder(row.id) }));
  }

  async secretSubstitutions(credentialIds: string[]): Promise<SecretSubstitution[]> {
    if (credentialIds.length === 0) return [];
    const rows = await this.options.rows.findEnvironmentVariablesById(credentialIds);
    return rows.map((row) => {
      const settings = JSON.parse(row.settings) as Settings;
      return {
        placeholder: this.placeholder(row.id),
        secret: openSecret(this.options.secretKey, row.access_token, credentialSecretContext(row.id, 'access_token')),
        allowedHosts: settings.networking.type === 'limited' ? settings.networking.allowed_hosts : null,
        header: settings.injection_location.header,
        body: settings.injection_location.body,
      };
    });
  }

  /** The placeholder of credential `credentialId` (see the class). */
  placeholder(credentialId: string): string {
    const digest = createHmac('sha256', this.options.secretKey)
      .update(`keel.vault_credential.${credentialId}.placeholder`)
      .digest('hex');
    return `keel_placeholder_${digest.slice(0, 40)}`;
  }

  /** Closes the rows' database connection; a later call opens it again. */
  close(): void {
    this.options.rows.close();
  }
}
