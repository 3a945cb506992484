import type { Database } from 'better-sqlite3';
import type { StoredVault, VaultRepository } from './control-plane-store';
import { SqliteArchivableTable } from './sqlite-archivable-table';
import type { ArchivableRow } from './sqlite-archivable-table';

/** A row of the `vaults` table. */
export interface VaultRow extends ArchivableRow {
  display_name: string;
  metadata: string;
}

/** Vaults in SQLite: one row each; deleting one deletes its credentials (`ON DELETE CASCADE`). */
export class SqliteVaultRepository extends SqliteArchivableTable<StoredVault, VaultRow> implements VaultRepository {
  constructor(database: Database) {
    super(database, {
      table: 'vaults',
      columns: { display_name: 'displayName', metadata: 'metadata' },
      toParameters: (vault) => ({
        id: vault.id,
        workspaceId: vault.workspaceId,
        createdAt: vault.createdAt,
        updatedAt: vault.updatedAt,
        archivedAt: vault.archivedAt,
        displayName: vault.displayName,
        metadata: JSON.stringify(vault.metadata),
      }),
      fromRow: toStoredVault,
    });
  }
}

/** A vault read from its row (also used by the credential repository, which reads a credential's vault). */
export function toStoredVault(row: Omit<VaultRow, 'sequence'>): StoredVault {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    displayName: row.display_name,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}
