import type { DreamRepository, DreamRowColumns, StoredDream } from './dream-repository';
import { dreamDefinitionOf, toStoredDream } from './dream-repository';
import { PostgresArchivableTable } from './postgres-archivable-table';
import type { PostgresArchivableRow } from './postgres-archivable-table';
import type { PostgresDatabase } from './postgres-database';

/** A row of the `dreams` table. */
export interface PostgresDreamRow extends PostgresArchivableRow, DreamRowColumns {}

/** Dreams in PostgreSQL, the twin of `SqliteDreamRepository`. */
export class PostgresDreamRepository
  extends PostgresArchivableTable<StoredDream, PostgresDreamRow>
  implements DreamRepository
{
  constructor(database: PostgresDatabase) {
    super(database, {
      table: 'dreams',
      columns: ['status', 'definition'],
      toValues: (dream) => [dream.status, dreamDefinitionOf(dream)],
      fromRow: toStoredDream,
    });
  }
}
