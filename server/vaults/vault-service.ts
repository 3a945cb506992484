import type {
  BetaManagedAgentsDeletedVault,
  BetaManagedAgentsVault,
} from '@anthropic-ai/sdk/resources/beta/vaults/vaults';
import { ApiError, invalidField } from '../api-error';
import { toPageResponse } from '../page-query';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { newResourceId, requireResourceId } from '../resource-ids';
import { checkedResourceMetadata, patchedResourceMetadata } from '../resource-metadata';
import type { ControlPlaneStore, StoredVault, VaultListRequest } from '../store/control-plane-store';
import type { CreateVaultBody, UpdateVaultBody } from './vault-request-schemas';
import { toVaultView } from './vault-view';

/** A page of vaults in the SDK's `PageCursor` shape. */
export interface VaultPage {
  data: BetaManagedAgentsVault[];
  next_page: string | null;
}

/** The most vaults one session may reference. */
export const MAX_SESSION_VAULTS = 20;

/**
 * Vault operations on the control-plane store, shared by the routes, the credential service and session creation. A
 * vault groups credentials; archived, it stays readable but cannot change, take credentials or start sessions, and the
 * worker stops using its credentials.
 */
export class VaultService {
  constructor(private readonly store: ControlPlaneStore) {}

  /** Creates a vault. */
  async create(body: CreateVaultBody): Promise<BetaManagedAgentsVault> {
    const now = new Date().toISOString();
    const vault: StoredVault = {
      id: newResourceId('vault'),
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      displayName: body.display_name,
      metadata: checkedResourceMetadata(body.metadata ?? {}),
    };
    await this.store.vaults.insert(vault);
    return toVaultView(vault);
  }

  /** The vault, or a 404 (a 400 naming `field` for a malformed id). */
  async retrieve(vaultId: string, field = 'vault_id'): Promise<BetaManagedAgentsVault> {
    return toVaultView(await this.find(vaultId, field));
  }

  /** Applies an update: `display_name` and a metadata patch; an archived vault refuses it with 409. */
  async update(vaultId: string, body: UpdateVaultBody): Promise<BetaManagedAgentsVault> {
    requireResourceId('vault', vaultId, 'vault_id');
    const now = new Date().toISOString();
    const updated = await this.store.vaults.update(vaultId, (current) => {
      if (current.archivedAt !== null) throw vaultArchived(vaultId, 'it cannot be updated');
      const next: StoredVault = {
        ...current,
        displayName: body.display_name ?? current.displayName,
        metadata: patchedResourceMetadata(current.metadata, body.metadata),
      };
      const changed = JSON.stringify(next) !== JSON.stringify(current);
      return changed ? { ...next, updatedAt: now } : current;
    });
    if (updated === null) throw vaultNotFound(vaultId);
    return toVaultView(updated);
  }

  /** Vaults, newest first, without archived ones unless asked. */
  async list(request: VaultListRequest): Promise<VaultPage> {
    return toPageResponse(await this.store.vaults.list(request), toVaultView);
  }

  /** Deletes the vault (archived or not) and every credential in it, secrets included. */
  async delete(vaultId: string): Promise<BetaManagedAgentsDeletedVault> {
    requireResourceId('vault', vaultId, 'vault_id');
    if (!(await this.store.vaults.delete(vaultId))) throw vaultNotFound(vaultId);
    return { id: vaultId, type: 'vault_deleted' };
  }

  /** Archives the vault: it stays readable, leaves the default list, and its credentials are no longer used. */
  async archive(vaultId: string): Promise<BetaManagedAgentsVault> {
    requireResourceId('vault', vaultId, 'vault_id');
    const now = new Date().toISOString();
    const result = await this.store.vaults.update(vaultId, (current) =>
      current.archivedAt === null ? { ...current, archivedAt: now, updatedAt: now } : current,
    );
    if (result === null) throw vaultNotFound(vaultId);
    return toVaultView(result);
  }

  /**
   * Checks the `vault_ids` of a new session: each one a vault id (400 naming `vault_ids[i]`), listed once (400), of
   * an existing vault (404 naming `vault_ids[i]`) that is not archived (400). Returns the ids in order.
   */
  async forSession(vaultIds: readonly string[]): Promise<string[]> {
    if (vaultIds.length > MAX_SESSION_VAULTS) {
      throw invalidField('vault_ids', `a session references at most ${MAX_SESSION_VAULTS} vaults`);
    }
    for (const [index, vaultId] of vaultIds.entries()) {
      const field = `vault_ids[${index}]`;
      requireResourceId('vault', vaultId, field);
      if (vaultIds.indexOf(vaultId) !== index) throw invalidField(field, `${vaultId} is listed twice`);
      const vault = await this.store.vaults.get(vaultId);
      if (vault === null) throw new ApiError('not_found_error', `${field}: no vault ${vaultId}.`);
      if (vault.archivedAt !== null) throw invalidField(field, `vault ${vaultId} is archived`);
    }
    return [...vaultIds];
  }

  /** The stored vault, or a 404 (a 400 naming `field` for a malformed id). */
  async find(vaultId: string, field = 'vault_id'): Promise<StoredVault> {
    requireResourceId('vault', vaultId, field);
    const vault = await this.store.vaults.get(vaultId);
    if (vault === null) throw vaultNotFound(vaultId);
    return vault;
  }
}

/** The 404 of an unknown vault. */
export function vaultNotFound(vaultId: string): ApiError {
  return new ApiError('not_found_error', `No vault ${vaultId}.`);
}

/** The 409 of a change an archived vault (or a credential in one) refuses. */
export function vaultArchived(vaultId: string, what: string): ApiError {
  return new ApiError('conflict_error', `Vault ${vaultId} is archived; ${what}.`);
}
