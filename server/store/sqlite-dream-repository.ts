import type { Database } from 'better-sqlite3';
import type { DreamRepository, DreamRowColumns, StoredDream } from './dream-repository';
import { dreamDefinitionOf, toStoredDream } from './dream-repository';
import { SqliteArchivableTable } from './sqlite-archivable-table';
import type { ArchivableRow } from './sqlite-archivable-table';

/** A row of the `dreams` table. */
export interface DreamRow extends ArchivableRow, DreamRowColumns {}

/** Dreams in SQLite: one row each, the request and the last status read as JSON. */
export class SqliteDreamRepository extends SqliteArchivableTable<StoredDream, DreamRow> implements DreamRepository {
  constructor(database: Database) {
    super(database, {
      table: 'dreams',
      columns: { status: 'status', definition: 'definition' },
      toParameters: (dream) => ({
        id: dream.id,
        workspaceId: dream.workspaceId,
        createdAt: dream.createdAt,
        updatedAt: dream.updatedAt,
        archivedAt: dream.archivedAt,
        status: dream.status,
        definition: dreamDefinitionOf(dream),
      }),
      fromRow: toStoredDream,
    });
  }
}
