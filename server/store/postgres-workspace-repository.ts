import type { StoredWorkspace, WorkspaceRepository } from './control-plane-store';
import type { PostgresDatabase } from './postgres-database';
import { toStoredWorkspace } from './sqlite-workspace-repository';
import type { WorkspaceRow } from './sqlite-workspace-repository';

/** Workspaces in PostgreSQL (table `workspaces`, migration 7). */
export class PostgresWorkspaceRepository implements WorkspaceRepository {
  constructor(private readonly database: PostgresDatabase) {}

  async ensure(workspace: StoredWorkspace): Promise<StoredWorkspace> {
    await this.database.query(
      'INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
      [workspace.id, workspace.name, workspace.createdAt],
    );
    const found = await this.findByName(workspace.name);
    if (found === null) throw new Error(`workspace ${workspace.name} vanished while it was created`);
    return found;
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
}
