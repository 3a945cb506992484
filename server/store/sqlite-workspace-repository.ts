import type { Database, Statement } from 'better-sqlite3';
import type { StoredWorkspace, WorkspaceRepository } from './control-plane-store';
import { settle } from './sqlite-database';

/** A row of the `workspaces` table (the PostgreSQL store's rows have the same columns). */
export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: string;
  archived_at: string | null;
}

/** Workspaces in the embedded SQLite store (table `workspaces`, migrations 7 and 8). */
export class SqliteWorkspaceRepository implements WorkspaceRepository {
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly selectById: Statement<[string], WorkspaceRow>;
  private readonly selectByName: Statement<[string], WorkspaceRow>;
  private readonly selectAll: Statement<[], WorkspaceRow>;
  private readonly renameOne: Statement<[Record<string, unknown>]>;
  private readonly archiveOne: Statement<[Record<string, unknown>]>;
  private readonly archiveKeys: Statement<[Record<string, unknown>]>;

  constructor(private readonly database: Database) {
    this.insertOne = database.prepare(
      'INSERT OR IGNORE INTO workspaces (id, name, created_at) VALUES (@id, @name, @createdAt)',
    );
    this.selectById = database.prepare('SELECT * FROM workspaces WHERE id = ?');
    this.selectByName = database.prepare('SELECT * FROM workspaces WHERE name = ?');
    this.selectAll = database.prepare('SELECT * FROM workspaces ORDER BY created_at, id');
    this.renameOne = database.prepare('UPDATE workspaces SET name = @name WHERE id = @id');
    this.archiveOne = database.prepare(
      'UPDATE workspaces SET archived_at = @at WHERE id = @id AND archived_at IS NULL',
    );
    this.archiveKeys = database.prepare(
      "UPDATE api_keys SET status = 'archived', revoked_at = COALESCE(revoked_at, @at) " +
        "WHERE workspace_id = @id AND status <> 'archived'",
    );
  }

  ensure(workspace: Omit<StoredWorkspace, 'archivedAt'>): Promise<StoredWorkspace> {
    return settle(() =>
      this.database
        .transaction((): StoredWorkspace => {
          this.insertOne.run({ id: workspace.id, name: workspace.name, createdAt: workspace.createdAt });
          const row = this.selectByName.get(workspace.name);
          if (row === undefined) throw new Error(`workspace ${workspace.name} vanished while it was created`);
          return toStoredWorkspace(row);
        })
        .immediate(),
    );
  }

  get(id: string): Promise<StoredWorkspace | null> {
    return settle(() => {
      const row = this.selectById.get(id);
      return row === undefined ? null : toStoredWorkspace(row);
    });
  }

  findByName(name: string): Promise<StoredWorkspace | null> {
    return settle(() => {
      const row = this.selectByName.get(name);
      return row === undefined ? null : toStoredWorkspace(row);
    });
  }

  list(): Promise<StoredWorkspace[]> {
    return settle(() => this.selectAll.all().map(toStoredWorkspace));
  }

  rename(id: string, name: string): Promise<StoredWorkspace | null> {
    return settle(() => {
      this.renameOne.run({ id, name });
      const row = this.selectById.get(id);
      return row === undefined ? null : toStoredWorkspace(row);
    });
  }

  archive(id: string, at: string): Promise<StoredWorkspace | null> {
    return settle(() =>
      this.database
        .transaction((): StoredWorkspace | null => {
          if (this.archiveOne.run({ id, at }).changes > 0) this.archiveKeys.run({ id, at });
          const row = this.selectById.get(id);
          return row === undefined ? null : toStoredWorkspace(row);
        })
        .immediate(),
    );
  }
}

/** A workspace read from its row. */
export function toStoredWorkspace(row: WorkspaceRow): StoredWorkspace {
  return { id: row.id, name: row.name, createdAt: row.created_at, archivedAt: row.archived_at };
}
