import type { Database, Statement } from 'better-sqlite3';
import type { ArchivableRecordRepository, StoredPage, WorkspaceListRequest } from './control-plane-store';
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';

/** The columns every archivable table has; `sequence` orders pages. */
export interface ArchivableRow {
  sequence: number;
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  workspace_id: string;
}

/** How one table maps to its record: its name, its own columns (by named parameter), and both conversions. */
export interface ArchivableTableSpec<Stored, Row extends ArchivableRow> {
  /** A constant table name (never user input). */
  table: string;
  /** The table's columns beyond the common ones, each with the named parameter `toParameters` fills. */
  columns: Record<string, string>;
  /**
   * The statement parameters of a record: `id`, `workspaceId`, `createdAt`, `updatedAt`, `archivedAt` and one per
   * column.
   */
  toParameters(record: Stored): Record<string, unknown>;
  fromRow(row: Row): Stored;
}

/**
 * One SQLite table of archivable records (environments, vaults): insert, get, newest-first pages with or without the
 * archived ones, an atomic read-change-write update, and delete, over prepared statements.
 */
export class SqliteArchivableTable<
  Stored extends { id: string },
  Row extends ArchivableRow,
> implements ArchivableRecordRepository<Stored> {
  private readonly selectOne: Statement<[string], Row>;
  private readonly selectPage: Statement<[Record<string, unknown>], Row>;
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly updateOne: Statement<[Record<string, unknown>]>;
  private readonly deleteOne: Statement<[string]>;

  constructor(
    private readonly database: Database,
    private readonly spec: ArchivableTableSpec<Stored, Row>,
  ) {
    const { table } = spec;
    const columns = Object.entries(spec.columns);
    this.selectOne = database.prepare(`SELECT * FROM ${table} WHERE id = ?`);
    this.selectPage = database.prepare(`
      SELECT * FROM ${table}
      WHERE (@includeArchived OR archived_at IS NULL) AND (@workspaceId IS NULL OR workspace_id = @workspaceId)
        AND (@before IS NULL OR sequence < @before)
      ORDER BY sequence DESC LIMIT @limit`);
    this.insertOne = database.prepare(
      `INSERT INTO ${table} (id, workspace_id, created_at, updated_at, archived_at,
         ${columns.map(([column]) => column).join(', ')})
       VALUES (@id, @workspaceId, @createdAt, @updatedAt, @archivedAt,
         ${columns.map(([, parameter]) => `@${parameter}`).join(', ')})`,
    );
    this.updateOne = database.prepare(
      `UPDATE ${table} SET updated_at = @updatedAt, archived_at = @archivedAt,
       ${columns.map(([column, parameter]) => `${column} = @${parameter}`).join(', ')} WHERE id = @id`,
    );
    this.deleteOne = database.prepare(`DELETE FROM ${table} WHERE id = ?`);
  }

  insert(record: Stored): Promise<void> {
    return settle(() => void this.insertOne.run(this.spec.toParameters(record)));
  }

  get(id: string): Promise<Stored | null> {
    return settle(() => this.read(id));
  }

  list(request: WorkspaceListRequest & { includeArchived: boolean }): Promise<StoredPage<Stored>> {
    return settle(() => {
      const rows = this.selectPage.all({
        includeArchived: request.includeArchived ? 1 : 0,
        workspaceId: request.workspaceId ?? null,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(
        rows,
        request.limit,
        (row) => this.spec.fromRow(row),
        (row) => row.sequence,
      );
    });
  }

  update(id: string, change: (current: Stored) => Stored): Promise<Stored | null> {
    return settle(() =>
      this.database
        .transaction((): Stored | null => {
          const current = this.read(id);
          if (current === null) return null;
          this.updateOne.run(this.spec.toParameters({ ...change(current), id }));
          return this.read(id);
        })
        .immediate(),
    );
  }

  delete(id: string): Promise<boolean> {
    return settle(() => this.deleteOne.run(id).changes > 0);
  }

  private read(id: string): Stored | null {
    const row = this.selectOne.get(id);
    return row === undefined ? null : this.spec.fromRow(row);
  }
}
