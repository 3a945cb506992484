import type { Database, Statement } from 'better-sqlite3';
import type { StoredPage, StoredVault, VaultListRequest, VaultRepository } from './control-plane-store';
import { parseCursor, settle, toPage } from './sqlite-database';

/** A row of the `vaults` table. */
export interface VaultRow {
  sequence: number;
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  display_name: string;
  metadata: string;
}

/** Vaults in SQLite: one row each; deleting one deletes its credentials (`ON DELETE CASCADE`). */
export class SqliteVaultRepository implements VaultRepository {
  private readonly selectOne: Statement<[string], VaultRow>;
  private readonly selectPage: Statement<[Record<string, unknown>], VaultRow>;
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly updateOne: Statement<[Record<string, unknown>]>;
  private readonly deleteOne: Statement<[string]>;

  constructor(private readonly database: Database) {
    this.selectOne = database.prepare('SELECT * FROM vaults WHERE id = ?');
    this.selectPage = database.prepare(`
      SELECT * FROM vaults
      WHERE (@includeArchived OR archived_at IS NULL) AND (@before IS NULL OR sequence < @before)
      ORDER BY sequence DESC LIMIT @limit`);
    this.insertOne = database.prepare(
      `INSERT INTO vaults (id, created_at, updated_at, archived_at, display_name, metadata)
       VALUES (@id, @createdAt, @updatedAt, @archivedAt, @displayName, @metadata)`,
    );
    this.updateOne = database.prepare(
      `UPDATE vaults SET updated_at = @updatedAt, archived_at = @archivedAt, display_name = @displayName,
       metadata = @metadata WHERE id = @id`,
    );
    this.deleteOne = database.prepare('DELETE FROM vaults WHERE id = ?');
  }

  insert(vault: StoredVault): Promise<void> {
    return settle(() => void this.insertOne.run(toParameters(vault)));
  }

  get(id: string): Promise<StoredVault | null> {
    return settle(() => this.read(id));
  }

  list(request: VaultListRequest): Promise<StoredPage<StoredVault>> {
    return settle(() => {
      const rows = this.selectPage.all({
        includeArchived: request.includeArchived ? 1 : 0,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(rows, request.limit, toStoredVault, (row) => row.sequence);
    });
  }

  update(id: string, change: (current: StoredVault) => StoredVault): Promise<StoredVault | null> {
    return settle(() =>
      this.database
        .transaction((): StoredVault | null => {
          const current = this.read(id);
          if (current === null) return null;
          this.updateOne.run(toParameters({ ...change(current), id }));
          return this.read(id);
        })
        .immediate(),
    );
  }

  delete(id: string): Promise<boolean> {
    return settle(() => this.deleteOne.run(id).changes > 0);
  }

  private read(id: string): StoredVault | null {
    const row = this.selectOne.get(id);
    return row === undefined ? null : toStoredVault(row);
  }
}

/** The row of a vault, for the statements above. */
function toParameters(vault: StoredVault): Record<string, unknown> {
  return {
    id: vault.id,
    createdAt: vault.createdAt,
    updatedAt: vault.updatedAt,
    archivedAt: vault.archivedAt,
    displayName: vault.displayName,
    metadata: JSON.stringify(vault.metadata),
  };
}

/** A vault read from its row (also used by the credential repository, which reads a credential's vault). */
export function toStoredVault(row: VaultRow): StoredVault {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    displayName: row.display_name,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}
