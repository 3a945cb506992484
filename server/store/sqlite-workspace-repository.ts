import type { Database, Statement } from 'better-sqlite3';
import type { StoredWorkspace, WorkspaceRepository } from './control-plane-store';
import { settle } from './sqlite-database';

/** A row of the `workspaces` table (the PostgreSQL store's rows have the same columns). */
export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: string;
}

/** Workspaces in the embedded SQLite store (table `workspaces`, migration 7). */
export class SqliteWorkspaceRepository implements WorkspaceRepository {
  private readonly insertOne: Statement<[Record<string, unknown>]>;
  private readonly selectByName: Statement<[string], WorkspaceRow>;
  private readonly selectAll: Statement<[], WorkspaceRow>;

  constructor(private readonly database: Database) {
    this.insertOne = database.prepare(
      'INSERT OR IGNORE INTO workspaces (id, name, created_at) VALUES (@id, @name, @createdAt)',
    );
    this.selectByName = database.prepare('SELECT * FROM workspaces WHERE name = ?');
    this.selectAll = database.prepare('SELECT * FROM workspaces ORDER BY created_at, id');
  }

  ensure(workspace: StoredWorkspace): Promise<StoredWorkspace> {
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

  findByName(name: string): Promise<StoredWorkspace | null> {
    return settle(() => {
      const row = this.selectByName.get(name);
      return row === undefined ? null : toStoredWorkspace(row);
    });
  }

  list(): Promise<StoredWorkspace[]> {
    return settle(() => this.selectAll.all().map(toStoredWorkspace));
  }
}

/** A workspace read from its row. */
export function toStoredWorkspace(row: WorkspaceRow): StoredWorkspace {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}
