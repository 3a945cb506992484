import type { Database, Statement } from 'better-sqlite3';
import type {
  AgentDefinition,
  AgentListRequest,
  AgentRepository,
  PageRequest,
  StoredAgent,
  StoredPage,
} from './control-plane-store';
import { settle } from './sqlite-database';
import { parseCursor, toPage } from './store-pages';

export interface AgentRow {
  sequence: number;
  id: string;
  workspace_id: string;
  latest_version: number;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface AgentVersionRow {
  version: number;
  version_created_at: string;
  definition: string;
}

type AgentWithVersionRow = AgentRow & AgentVersionRow;

/** Agents in SQLite: one row per agent (`agents`) and one per version (`agent_versions`, the definition as JSON). */
export class SqliteAgentRepository implements AgentRepository {
  private readonly selectAgent: Statement<[string], AgentRow>;
  private readonly selectVersion: Statement<[string, number], AgentVersionRow>;
  private readonly selectPage: Statement<[Record<string, unknown>], AgentWithVersionRow>;
  private readonly selectVersionPage: Statement<[Record<string, unknown>], AgentVersionRow>;
  private readonly insertAgent: Statement<[Record<string, unknown>]>;
  private readonly insertVersion: Statement<[Record<string, unknown>]>;
  private readonly updateLatest: Statement<[Record<string, unknown>]>;
  private readonly updateArchived: Statement<[Record<string, unknown>]>;

  constructor(private readonly database: Database) {
    this.selectAgent = database.prepare('SELECT * FROM agents WHERE id = ?');
    this.selectVersion = database.prepare(
      'SELECT version, created_at AS version_created_at, definition FROM agent_versions WHERE agent_id = ? AND version = ?',
    );
    this.selectPage = database.prepare(`
      SELECT agents.*, agent_versions.version, agent_versions.created_at AS version_created_at, agent_versions.definition
      FROM agents JOIN agent_versions ON agent_versions.agent_id = agents.id AND agent_versions.version = agents.latest_version
      WHERE (@includeArchived OR agents.archived_at IS NULL)
        AND (@workspaceId IS NULL OR agents.workspace_id = @workspaceId)
        AND (@createdAtOrAfter IS NULL OR agents.created_at >= @createdAtOrAfter)
        AND (@createdAtOrBefore IS NULL OR agents.created_at <= @createdAtOrBefore)
        AND (@before IS NULL OR agents.sequence < @before)
      ORDER BY agents.sequence DESC LIMIT @limit`);
    this.selectVersionPage = database.prepare(`
      SELECT version, created_at AS version_created_at, definition FROM agent_versions
      WHERE agent_id = @id AND (@before IS NULL OR version < @before)
      ORDER BY version DESC LIMIT @limit`);
    this.insertAgent = database.prepare(
      `INSERT INTO agents (id, workspace_id, latest_version, created_at, updated_at, archived_at)
       VALUES (@id, @workspaceId, @version, @createdAt, @updatedAt, @archivedAt)`,
    );
    this.insertVersion = database.prepare(
      'INSERT INTO agent_versions (agent_id, version, created_at, definition) VALUES (@id, @version, @createdAt, @definition)',
    );
    this.updateLatest = database.prepare(
      'UPDATE agents SET latest_version = @version, updated_at = @at WHERE id = @id AND latest_version = @version - 1',
    );
    this.updateArchived = database.prepare(
      'UPDATE agents SET archived_at = @at, updated_at = @at WHERE id = @id AND archived_at IS NULL',
    );
  }

  insert(agent: StoredAgent): Promise<void> {
    return settle(() => {
      this.database.transaction(() => {
        this.insertAgent.run({
          id: agent.id,
          workspaceId: agent.workspaceId,
          version: 1,
          createdAt: agent.createdAt,
          updatedAt: agent.updatedAt,
          archivedAt: agent.archivedAt,
        });
        this.insertVersion.run({
          id: agent.id,
          version: 1,
          createdAt: agent.createdAt,
          definition: JSON.stringify(agent.definition),
        });
      })();
    });
  }

  get(id: string, version?: number): Promise<StoredAgent | null> {
    return settle(() => this.read(id, version));
  }

  list(request: AgentListRequest): Promise<StoredPage<StoredAgent>> {
    return settle(() => {
      const rows = this.selectPage.all({
        includeArchived: request.includeArchived ? 1 : 0,
        workspaceId: request.workspaceId ?? null,
        createdAtOrAfter: request.createdAtOrAfter,
        createdAtOrBefore: request.createdAtOrBefore,
        before: parseCursor(request.cursor),
        limit: request.limit + 1,
      });
      return toPage(
        rows,
        request.limit,
        (row) => toStoredAgent(row, row),
        (row) => row.sequence,
      );
    });
  }

  listVersions(id: string, request: PageRequest): Promise<StoredPage<StoredAgent> | null> {
    return settle(() => {
      const agent = this.selectAgent.get(id);
      if (agent === undefined) return null;
      const rows = this.selectVersionPage.all({ id, before: parseCursor(request.cursor), limit: request.limit + 1 });
      return toPage(
        rows,
        request.limit,
        (row) => toStoredAgent(agent, row),
        (row) => row.version,
      );
    });
  }

  appendVersion(
    id: string,
    change: (latest: StoredAgent) => AgentDefinition | null,
    at: string,
  ): Promise<StoredAgent | null> {
    return settle(() =>
      this.database
        .transaction((): StoredAgent | null => {
          const latest = this.read(id);
          if (latest === null) return null;
          const definition = change(latest);
          if (definition === null) return latest;
          const version = latest.version + 1;
          this.insertVersion.run({ id, version, createdAt: at, definition: JSON.stringify(definition) });
          this.updateLatest.run({ id, version, at });
          return this.read(id);
        })
        .immediate(),
    );
  }

  archive(id: string, at: string): Promise<StoredAgent | null> {
    return settle(() =>
      this.database
        .transaction((): StoredAgent | null => {
          this.updateArchived.run({ id, at });
          return this.read(id);
        })
        .immediate(),
    );
  }

  private read(id: string, version?: number): StoredAgent | null {
    const agent = this.selectAgent.get(id);
    if (agent === undefined) return null;
    const row = this.selectVersion.get(id, version ?? agent.latest_version);
    return row === undefined ? null : toStoredAgent(agent, row);
  }
}

/** One version of an agent read from its rows (the PostgreSQL store's rows have the same columns). */
export function toStoredAgent(agent: Omit<AgentRow, 'sequence'>, row: AgentVersionRow): StoredAgent {
  return {
    id: agent.id,
    workspaceId: agent.workspace_id,
    version: row.version,
    createdAt: agent.created_at,
    updatedAt: row.version === agent.latest_version ? agent.updated_at : row.version_created_at,
    archivedAt: agent.archived_at,
    definition: JSON.parse(row.definition) as AgentDefinition,
  };
}
