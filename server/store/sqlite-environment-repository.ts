import type { Database } from 'better-sqlite3';
import type { EnvironmentDefinition, EnvironmentRepository, StoredEnvironment } from './control-plane-store';
import { SqliteArchivableTable } from './sqlite-archivable-table';
import type { ArchivableRow } from './sqlite-archivable-table';

interface EnvironmentRow extends ArchivableRow {
  definition: string;
}

/** Environments in SQLite: one row each, the definition as JSON. */
export class SqliteEnvironmentRepository
  extends SqliteArchivableTable<StoredEnvironment, EnvironmentRow>
  implements EnvironmentRepository
{
  constructor(database: Database) {
    super(database, {
      table: 'environments',
      columns: { definition: 'definition' },
      toParameters: (environment) => ({
        id: environment.id,
        workspaceId: environment.workspaceId,
        createdAt: environment.createdAt,
        updatedAt: environment.updatedAt,
        archivedAt: environment.archivedAt,
        definition: JSON.stringify(environment.definition),
      }),
      fromRow: (row) => ({
        id: row.id,
        workspaceId: row.workspace_id,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        archivedAt: row.archived_at,
        definition: JSON.parse(row.definition) as EnvironmentDefinition,
      }),
    });
  }
}
