import type { BetaManagedAgentsVault } from '@anthropic-ai/sdk/resources/beta/vaults/vaults';
import type { StoredVault } from '../store/control-plane-store';

/** The vault object of the hosted API (`BetaManagedAgentsVault`) for a stored vault. */
export function toVaultView(vault: StoredVault): BetaManagedAgentsVault {
  return {
    id: vault.id,
    type: 'vault',
    display_name: vault.displayName,
    metadata: vault.metadata,
    created_at: vault.createdAt,
    updated_at: vault.updatedAt,
    archived_at: vault.archivedAt,
  };
}
