import type { StoredVault, VaultRepository } from './control-plane-store';
import { PostgresArchivableTable } from './postgres-archivable-table';
import type { PostgresArchivableRow } from './postgres-archivable-table';
import type { PostgresDatabase } from './postgres-database';
import { toStoredVault } from './sqlite-vault-repository';

/** A row of the `vaults` table. */
export interface PostgresVaultRow extends PostgresArchivableRow {
  display_name: string;
  metadata: string;
}

/** Vaults in PostgreSQL: one row each; deleting one deletes its credentials (`ON DELETE CASCADE`). */
export class PostgresVaultRepository
  extends PostgresArchivableTable<StoredVault, PostgresVaultRow>
  implements VaultRepository
{
  constructor(database: PostgresDatabase) {
    super(database, {
      table: 'vaults',
      columns: ['display_name', 'metadata'],
      toValues: (vault) => [vault.displayName, JSON.stringify(vault.metadata)],
      fromRow: toStoredVault,
    });
  }
}
