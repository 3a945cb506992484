import type { StoredWorkspace, WorkspaceRepository } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';
import { toStoredWorkspace } from './sqlite-workspace-repository';
import type { WorkspaceRow } from './sqlite-workspace-repository';

/** Workspaces in PostgreSQL (table `workspaces`, migrations 7 and 8). */
export class PostgresWorkspaceRepository implements WorkspaceRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async ensure(workspace: Omit<StoredWorkspace, 'archivedAt'>): Promise<StoredWorkspace> {
    await this.database.query(
      'INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
      [workspace.id, workspace.name, workspace.createdAt],
    );
    const found = await this.findByName(workspace.name);
    if (found === null) throw new Error(`workspace ${workspace.name} vanished while it was created`);
    return found;
  }

  async get(id: string): Promise<StoredWorkspace | null> {
    const { rows } = await this.database.query<WorkspaceRow>('SELECT * FROM workspaces WHERE id = $1', [id]);
    const row = rows[0];
    return row === undefined ? null : toStoredWorkspace(row);
  }

  async findByName(name: string): Promise<StoredWorkspace | null> {
    const { rows } = await this.database.query<WorkspaceRow>('SELECT * FROM workspaces WHERE name = $1', [name]);
    const row = rows[0];
    return row === undefined ? null : toStoredWorkspace(row);
  }

  async list(): Promise<StoredWorkspace[]> {
    const { rows } = await this.database.query<WorkspaceRow>('SELECT * FROM workspaces ORDER BY created_at, id');
    return rows.map(toStoredWorkspace);
  }

  async rename(id: string, name: string): Promise<StoredWorkspace | null> {
    const { rows } = await this.database.query<WorkspaceRow>(
      'UPDATE workspaces SET name = $2 WHERE id = $1 RETURNING *',
      [id, name],
    );
    const row = rows[0];
    return row === undefined ? null : toStoredWorkspace(row);
  }

  archive(id: string, at: string): Promise<StoredWorkspace | null> {
    return this.database.transaction(async (client) => {
      const archived = await client.query(
        'UPDATE workspaces SET archived_at = $2 WHERE id = $1 AND archived_at IS NULL',
        [id, at],
      );
      if ((archived.rowCount ?? 0) > 0) {
        await client.query(
          `UPDATE api_keys SET status = 'archived', revoked_at = COALESCE(revoked_at, $2)
           WHERE workspace_id = $1 AND status <> 'archived'`,
          [id, at],
        );
      }
      const { rows } = await client.query<WorkspaceRow>('SELECT * FROM workspaces WHERE id = $1', [id]);
      const row = rows[0];
      return row === undefined ? null : toStoredWorkspace(row);
    });
  }
}
