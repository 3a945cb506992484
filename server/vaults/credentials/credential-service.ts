import type {
  BetaManagedAgentsCredential,
  BetaManagedAgentsDeletedCredential,
} from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { ApiError } from '../../api-error';
import { toPageResponse } from '../../page-query';
import { newCredentialAuth, updatedCredentialAuth } from './credential-auth';
import type { CreateCredentialBody, UpdateCredentialBody } from './credential-request-schemas';
import { toCredentialView } from './credential-view';
import { newResourceId, requireResourceId } from '../../resource-ids';
import { checkedResourceMetadata, patchedResourceMetadata } from '../../resource-metadata';
import type { ControlPlaneStore, CredentialListRequest, StoredCredential } from '../../store/control-plane-store';
import type { VaultService } from '../vault-service';
import { vaultArchived, vaultNotFound } from '../vault-service';

/** A page of credentials in the SDK's `PageCursor` shape. */
export interface CredentialPage {
  data: BetaManagedAgentsCredential[];
  next_page: string | null;
}

/**
 * Credential operations on the control-plane store. Secrets are sealed (AES-256-GCM, `secretKey`) before they reach
 * the store and are never read back here: responses are built from the non-secret fields only. The worker's resolver
 * opens them (activities/credentials/). Without a `secretKey` the server still serves vaults, and refuses credentials.
 */
export class CredentialService {
  constructor(
    private readonly store: ControlPlaneStore,
    private readonly vaults: VaultService,
    private readonly secretKey: Uint8Array | undefined,
  ) {}

  /**
   * Creates a credential in an active vault; 409 when the vault already holds an active one for the MCP server (or,
   * for an `environment_variable` credential, with the same `secret_name`).
   */
  async create(vaultId: string, body: CreateCredentialBody): Promise<BetaManagedAgentsCredential> {
    requireResourceId('vault', vaultId, 'vault_id');
    const key = this.requireKey();
    const id = newResourceId('credential');
    const now = new Date().toISOString();
    const credential: StoredCredential = {
      id,
      vaultId,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      displayName: body.display_name ?? null,
      metadata: checkedResourceMetadata(body.metadata ?? {}),
      ...newCredentialAuth(body.auth, id, key),
    };
    const result = await this.store.credentials.insert(credential);
    if (result === 'vault_not_found') throw vaultNotFound(vaultId);
    if (result === 'vault_archived') throw vaultArchived(vaultId, 'it takes no new credentials');
    if (result === 'mcp_server_taken' && credential.auth.type === 'environment_variable') {
      throw new ApiError(
        'conflict_error',
        `auth.secret_name: vault ${vaultId} already holds an active credential named ${credential.auth.secret_name}; ` +
          'archive or delete it first.',
      );
    }
    if (result === 'mcp_server_taken') {
      throw new ApiError(
        'conflict_error',
        `auth.mcp_server_url: vault ${vaultId} already holds an active credential for this MCP server; archive or ` +
          'delete it first.',
      );
    }
    return toCredentialView(credential);
  }

  /** The credential, or a 404. */
  async retrieve(vaultId: string, credentialId: string): Promise<BetaManagedAgentsCredential> {
    return toCredentialView(await this.find(vaultId, credentialId));
  }

  /**
   * Applies an update (`auth` of the same type, `display_name`, a metadata patch); a credential that is archived, or
   * in an archived vault, refuses it with 409.
   */
  async update(
    vaultId: string,
    credentialId: string,
    body: UpdateCredentialBody,
  ): Promise<BetaManagedAgentsCredential> {
    this.requireIds(vaultId, credentialId);
    const key = body.auth === undefined ? undefined : this.requireKey();
    const now = new Date().toISOString();
    const updated = await this.store.credentials.update(vaultId, credentialId, (current, vault) => {
      if (vault.archivedAt !== null) throw vaultArchived(vaultId, 'its credentials cannot be updated');
      if (current.archivedAt !== null || current.secrets === null) {
        throw new ApiError('conflict_error', `Credential ${credentialId} is archived; it cannot be updated.`);
      }
      const next: StoredCredential = {
        ...current,
        displayName: body.display_name === undefined ? current.displayName : body.display_name,
        metadata: patchedResourceMetadata(current.metadata, body.metadata),
        ...(body.auth === undefined || key === undefined
          ? {}
          : updatedCredentialAuth(current, current.secrets, body.auth, key)),
      };
      const changed = JSON.stringify(next) !== JSON.stringify(current);
      return changed ? { ...next, updatedAt: now } : current;
    });
    if (updated === null) throw await this.notFound(vaultId, credentialId);
    return toCredentialView(updated);
  }

  /** The vault's credentials, newest first, without archived ones unless asked; 404 for an unknown vault. */
  async list(vaultId: string, request: CredentialListRequest): Promise<CredentialPage> {
    await this.vaults.find(vaultId);
    const page = await this.store.credentials.list(vaultId, request);
    return toPageResponse(page, toCredentialView);
  }

  /** Deletes the credential and its secrets. */
  async delete(vaultId: string, credentialId: string): Promise<BetaManagedAgentsDeletedCredential> {
    this.requireIds(vaultId, credentialId);
    if (!(await this.store.credentials.delete(vaultId, credentialId))) {
      throw await this.notFound(vaultId, credentialId);
    }
    return { id: credentialId, type: 'vault_credential_deleted' };
  }

  /**
   * Archives the credential: it stays readable and leaves the default list, its secrets are erased (no endpoint
   * un-archives, so nothing could use them again), and its MCP server is free for a new credential. Idempotent.
   */
  async archive(vaultId: string, credentialId: string): Promise<BetaManagedAgentsCredential> {
    this.requireIds(vaultId, credentialId);
    const now = new Date().toISOString();
    const archived = await this.store.credentials.update(vaultId, credentialId, (current) =>
      current.archivedAt === null ? { ...current, archivedAt: now, updatedAt: now, secrets: null } : current,
    );
    if (archived === null) throw await this.notFound(vaultId, credentialId);
    return toCredentialView(archived);
  }

  private async find(vaultId: string, credentialId: string): Promise<StoredCredential> {
    this.requireIds(vaultId, credentialId);
    const credential = await this.store.credentials.get(vaultId, credentialId);
    if (credential === null) throw await this.notFound(vaultId, credentialId);
    return credential;
  }

  private requireIds(vaultId: string, credentialId: string): void {
    requireResourceId('vault', vaultId, 'vault_id');
    requireResourceId('credential', credentialId, 'credential_id');
  }

  /** The 404 for a credential the vault does not hold, or for the vault itself when it does not exist. */
  private async notFound(vaultId: string, credentialId: string): Promise<ApiError> {
    if ((await this.store.vaults.get(vaultId)) === null) return vaultNotFound(vaultId);
    return new ApiError('not_found_error', `No credential ${credentialId} in vault ${vaultId}.`);
  }

  private requireKey(): Uint8Array {
    if (this.secretKey === undefined) {
      throw new ApiError('api_error', 'This server has no secret key (KEEL_SECRET_KEY) to seal vault secrets with.');
    }
    return this.secretKey;
  }
}
