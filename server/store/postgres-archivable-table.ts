import type { QueryResultRow } from 'pg';
import type { ArchivableRecordRepository, StoredPage, WorkspaceListRequest } from './control-plane-store';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
import { parseCursor, toPage } from './store-pages';

/** The columns every archivable table has; `sequence` orders pages. */
export interface PostgresArchivableRow extends QueryResultRow {
  sequence: string;
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  workspace_id: string;
}

/** How one table maps to its record: its name, its own columns in order, and both conversions. */
export interface PostgresArchivableTableSpec<Stored, Row extends PostgresArchivableRow> {
  /** A constant table name (never user input). */
  table: string;
  /** The table's columns beyond the common ones, in the order `toValues` gives their values. */
  columns: readonly string[];
  /** The values of `columns` for a record. */
  toValues(record: Stored): unknown[];
  fromRow(row: Row): Stored;
}

/** The common fields of an archivable record. */
type ArchivableRecord = {
  id: string;
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
};

/**
 * One PostgreSQL table of archivable records (environments, vaults), the twin of `SqliteArchivableTable`: insert, get,
 * newest-first pages, an update that locks the row while `change` runs, and delete.
 */
export class PostgresArchivableTable<
  Stored extends ArchivableRecord,
  Row extends PostgresArchivableRow,
> implements ArchivableRecordRepository<Stored> {
  constructor(
    private readonly database: PostgresDatabase,
    private readonly spec: PostgresArchivableTableSpec<Stored, Row>,
  ) {}

  async insert(record: Stored): Promise<void> {
    const { table, columns } = this.spec;
    const placeholders = columns.map((_, index) => `$${index + 6}`).join(', ');
    await this.database.query(
      `INSERT INTO ${table} (id, workspace_id, created_at, updated_at, archived_at, ${columns.join(', ')})
       VALUES ($1, $2, $3, $4, $5, ${placeholders})`,
      [
        record.id,
        record.workspaceId,
        record.createdAt,
        record.updatedAt,
        record.archivedAt,
        ...this.spec.toValues(record),
      ],
    );
  }

  get(id: string): Promise<Stored | null> {
    return this.read(this.database, id, false);
  }

  async list(request: WorkspaceListRequest & { includeArchived: boolean }): Promise<StoredPage<Stored>> {
    const { rows } = await this.database.query<Row>(
      `SELECT * FROM ${this.spec.table}
       WHERE ($1 OR archived_at IS NULL) AND ($2::bigint IS NULL OR sequence < $2)
         AND ($4::text IS NULL OR workspace_id = $4)
       ORDER BY sequence DESC LIMIT $3`,
      [request.includeArchived, parseCursor(request.cursor), request.limit + 1, request.workspaceId ?? null],
    );
    return toPage(
      rows,
      request.limit,
      (row) => this.spec.fromRow(row),
      (row) => toSequence(row.sequence),
    );
  }

  update(id: string, change: (current: Stored) => Stored): Promise<Stored | null> {
    const { table, columns } = this.spec;
    const assignments = columns.map((column, index) => `${column} = $${index + 4}`).join(', ');
    return this.database.transaction(async (client) => {
      const current = await this.read(client, id, true);
      if (current === null) return null;
      const next = { ...change(current), id };
      await client.query(`UPDATE ${table} SET updated_at = $2, archived_at = $3, ${assignments} WHERE id = $1`, [
        id,
        next.updatedAt,
        next.archivedAt,
        ...this.spec.toValues(next),
      ]);
      return this.read(client, id, false);
    });
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.database.query(`DELETE FROM ${this.spec.table} WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  private async read(queries: PostgresQueries, id: string, lock: boolean): Promise<Stored | null> {
    const { rows } = await queries.query<Row>(
      `SELECT * FROM ${this.spec.table} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? null : this.spec.fromRow(row);
  }
}
