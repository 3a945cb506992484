import type {
  AgentDefinition,
  AgentListRequest,
  AgentRepository,
  PageRequest,
  StoredAgent,
  StoredPage,
} from './control-plane-store';
import type { PostgresDatabase, PostgresQueries } from './postgres-database';
import { toSequence } from './postgres-database';
import { toStoredAgent } from './sqlite-agent-repository';
import type { AgentRow, AgentVersionRow } from './sqlite-agent-repository';
import { parseCursor, toPage } from './store-pages';

type PostgresAgentRow = Omit<AgentRow, 'sequence'> & { sequence: string };

const VERSION_COLUMNS = 'version, created_at AS version_created_at, definition';

/** Agents in PostgreSQL: one row per agent (`agents`) and one per version (`agent_versions`, the definition as JSON). */
export class PostgresAgentRepository implements AgentRepository {
  constructor(private readonly database: PostgresDatabase) {}

  insert(agent: StoredAgent): Promise<void> {
    return this.database.transaction(async (client) => {
      await client.query(
        `INSERT INTO agents (id, workspace_id, latest_version, created_at, updated_at, archived_at)
         VALUES ($1, $5, 1, $2, $3, $4)`,
        [agent.id, agent.createdAt, agent.updatedAt, agent.archivedAt, agent.workspaceId],
      );
      await client.query(
        'INSERT INTO agent_versions (agent_id, version, created_at, definition) VALUES ($1, 1, $2, $3)',
        [agent.id, agent.createdAt, JSON.stringify(agent.definition)],
      );
    });
  }

  get(id: string, version?: number): Promise<StoredAgent | null> {
    return read(this.database, id, version);
  }

  async list(request: AgentListRequest): Promise<StoredPage<StoredAgent>> {
    const { rows } = await this.database.query<PostgresAgentRow & AgentVersionRow>(
      `SELECT agents.*, agent_versions.version, agent_versions.created_at AS version_created_at,
         agent_versions.definition
       FROM agents JOIN agent_versions
         ON agent_versions.agent_id = agents.id AND agent_versions.version = agents.latest_version
       WHERE ($1 OR agents.archived_at IS NULL)
         AND ($2::text IS NULL OR agents.created_at >= $2)
         AND ($3::text IS NULL OR agents.created_at <= $3)
         AND ($4::bigint IS NULL OR agents.sequence < $4)
         AND ($6::text IS NULL OR agents.workspace_id = $6)
       ORDER BY agents.sequence DESC LIMIT $5`,
      [
        request.includeArchived,
        request.createdAtOrAfter,
        request.createdAtOrBefore,
        parseCursor(request.cursor),
        request.limit + 1,
        request.workspaceId ?? null,
      ],
    );
    return toPage(
      rows,
      request.limit,
      (row) => toStoredAgent(row, row),
      (row) => toSequence(row.sequence),
    );
  }

  async listVersions(id: string, request: PageRequest): Promise<StoredPage<StoredAgent> | null> {
    const agent = await selectAgent(this.database, id, false);
    if (agent === null) return null;
    const { rows } = await this.database.query<AgentVersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM agent_versions
       WHERE agent_id = $1 AND ($2::integer IS NULL OR version < $2) ORDER BY version DESC LIMIT $3`,
      [id, parseCursor(request.cursor), request.limit + 1],
    );
    return toPage(
      rows,
      request.limit,
      (row) => toStoredAgent(agent, row),
      (row) => row.version,
    );
  }

  appendVersion(
    id: string,
    change: (latest: StoredAgent) => AgentDefinition | null,
    at: string,
  ): Promise<StoredAgent | null> {
    return this.database.transaction(async (client) => {
      const agent = await selectAgent(client, id, true);
      if (agent === null) return null;
      const latest = await read(client, id);
      if (latest === null) return null;
      const definition = change(latest);
      if (definition === null) return latest;
      const version = latest.version + 1;
      await client.query(
        'INSERT INTO agent_versions (agent_id, version, created_at, definition) VALUES ($1, $2, $3, $4)',
        [id, version, at, JSON.stringify(definition)],
      );
      await client.query('UPDATE agents SET latest_version = $2, updated_at = $3 WHERE id = $1', [id, version, at]);
      return read(client, id);
    });
  }

  async archive(id: string, at: string): Promise<StoredAgent | null> {
    await this.database.query(
      'UPDATE agents SET archived_at = $2, updated_at = $2 WHERE id = $1 AND archived_at IS NULL',
      [id, at],
    );
    return read(this.database, id);
  }
}

async function selectAgent(queries: PostgresQueries, id: string, lock: boolean): Promise<PostgresAgentRow | null> {
  const { rows } = await queries.query<PostgresAgentRow>(
    `SELECT * FROM agents WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

async function read(queries: PostgresQueries, id: string, version?: number): Promise<StoredAgent | null> {
  const agent = await selectAgent(queries, id, false);
  if (agent === null) return null;
  const { rows } = await queries.query<AgentVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM agent_versions WHERE agent_id = $1 AND version = $2`,
    [id, version ?? agent.latest_version],
  );
  const row = rows[0];
  return row === undefined ? null : toStoredAgent(agent, row);
}
