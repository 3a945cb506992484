import type { Database, Statement } from 'better-sqlite3';
import type {
  EnvironmentDefinition,
  EnvironmentListRequest,
  EnvironmentRepository,
  StoredEnvironment,
  StoredPage,
} from './control-plane-store';
import { parseCursor, settle, toPage } from './sqlite-database';

interface EnvironmentRow {
  sequence: number;
  id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  definition: string;
}

/** Environments in SQLite: one row each, the definition as JSON. */
export class SqliteEnvironmentRepository implements EnvironmentRepository {
  private readonly selectOne: Statement<[string], EnvironmentRow>;
  private readonly selectPage: Statement<[Record<string, unknown>], EnvironmentRow>;
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly updateOne: Statement<[Record<string, unknown>]>;
  private readonly deleteOne: Statement<[string]>;

  constructor(private readonly database: Database) {
    this.selectOne = database.prepare('SELECT * FROM environments WHERE id = ?');
    this.selectPage = database.prepare(`
      SELECT * FROM environments
      WHERE (@includeArchived OR archived_at IS NULL) AND (@before IS NULL OR sequence < @before)
      ORDER BY sequence DESC LIMIT @limit`);
    this.insertOne = database.prepare(
      `INSERT INTO environments (id, created_at, updated_at, archived_at, definition)
       VALUES (@id, @createdAt, @updatedAt, @archivedAt, @definition)`,
    );
    this.updateOne = database.prepare(
      `UPDATE environments SET updated_at = @updatedAt, archived_at = @archivedAt, definition = @definition
       WHERE id = @id`,
    );
    this.deleteOne = database.prepare('DELETE FROM environments WHERE id = ?');
  }

  insert(environment: StoredEnvironment): Promise<void> {
    return settle(() => void this.insertOne.run(toParameters(environment)));
  }

  get(id: string): Promise<StoredEnvironment | null> {
    return settle(() => this.read(id));
  }

  list(request: EnvironmentListRequest): Promise<StoredPage<StoredEnvironment>> {
    return settle(() => {
      const rows = this.selectPage.all({
        includeArchived: request.includeArchived ? 1 : 0,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(rows, request.limit, toStoredEnvironment, (row) => row.sequence);
    });
  }

  update(id: string, change: (current: StoredEnvironment) => StoredEnvironment): Promise<StoredEnvironment | null> {
    return settle(() =>
      this.database
        .transaction((): StoredEnvironment | null => {
          const current = this.read(id);
          if (current === null) return null;
          const next = change(current);
          this.updateOne.run(toParameters({ ...next, id }));
          return this.read(id);
        })
        .immediate(),
    );
  }

  delete(id: string): Promise<boolean> {
    return settle(() => this.deleteOne.run(id).changes > 0);
  }

  private read(id: string): StoredEnvironment | null {
    const row = this.selectOne.get(id);
    return row === undefined ? null : toStoredEnvironment(row);
  }
}

function toParameters(environment: StoredEnvironment): Record<string, unknown> {
  return {
    id: environment.id,
    createdAt: environment.createdAt,
    updatedAt: environment.updatedAt,
    archivedAt: environment.archivedAt,
    definition: JSON.stringify(environment.definition),
  };
}

function toStoredEnvironment(row: EnvironmentRow): StoredEnvironment {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    definition: JSON.parse(row.definition) as EnvironmentDefinition,
  };
}
