import type { EnvironmentDefinition, EnvironmentRepository, StoredEnvironment } from './control-plane-store';
import { PostgresArchivableTable } from './postgres-archivable-table';
import type { PostgresArchivableRow } from './postgres-archivable-table';
import type { PostgresDatabase } from './postgres-database';

interface EnvironmentRow extends PostgresArchivableRow {
  definition: string;
}

/** Environments in PostgreSQL: one row each, the definition as JSON text. */
export class PostgresEnvironmentRepository
  extends PostgresArchivableTable<StoredEnvironment, EnvironmentRow>
  implements EnvironmentRepository
{
  constructor(database: PostgresDatabase) {
    super(database, {
      table: 'environments',
      columns: ['definition'],
      toValues: (environment) => [JSON.stringify(environment.definition)],
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
