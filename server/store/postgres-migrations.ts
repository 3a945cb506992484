import type { Migration } from './migrations';
import { MIGRATIONS } from './migrations';

/** The SQL of each PostgreSQL migration, by version; names come from the SQLite list, which this one mirrors. */
const POSTGRES_SQL: readonly string[] = [
  `
    CREATE TABLE agents (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      latest_version INTEGER NOT NULL CHECK (latest_version >= 1),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT
    );
    CREATE TABLE agent_versions (
      agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
      version INTEGER NOT NULL CHECK (version >= 1),
      created_at TEXT NOT NULL,
      definition TEXT NOT NULL CHECK (definition::jsonb IS NOT NULL),
      PRIMARY KEY (agent_id, version)
    );
    CREATE INDEX agents_by_created_at ON agents (created_at);
    CREATE TABLE environments (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      definition TEXT NOT NULL CHECK (definition::jsonb IS NOT NULL)
    );
  `,
  `
    CREATE TABLE file_metadata (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      filename TEXT NOT NULL,
      mime_type TEXT NOT NULL,
      size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
      created_at TEXT NOT NULL,
      downloadable BOOLEAN NOT NULL,
      expires_at TEXT,
      scope_type TEXT CHECK (scope_type IN ('session')),
      scope_id TEXT,
      CHECK ((scope_type IS NULL) = (scope_id IS NULL))
    );
    CREATE INDEX file_metadata_by_scope ON file_metadata (scope_id, sequence) WHERE scope_id IS NOT NULL;
  `,
  `
    CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      key_sha256 TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    );
  `,
  `
    CREATE TABLE vaults (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      display_name TEXT NOT NULL,
      metadata TEXT NOT NULL CHECK (metadata::jsonb IS NOT NULL)
    );
    CREATE TABLE vault_credentials (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      display_name TEXT,
      metadata TEXT NOT NULL CHECK (metadata::jsonb IS NOT NULL),
      auth_type TEXT NOT NULL CHECK (auth_type IN ('static_bearer', 'mcp_oauth')),
      mcp_server_url TEXT NOT NULL,
      mcp_server_key TEXT NOT NULL,
      expires_at TEXT,
      refresh TEXT CHECK (refresh IS NULL OR refresh::jsonb IS NOT NULL),
      access_token TEXT,
      refresh_token TEXT,
      client_secret TEXT,
      CHECK (archived_at IS NOT NULL OR access_token IS NOT NULL)
    );
    CREATE INDEX vault_credentials_by_vault ON vault_credentials (vault_id, sequence);
    CREATE UNIQUE INDEX vault_credentials_one_active_per_server
      ON vault_credentials (vault_id, mcp_server_key) WHERE archived_at IS NULL;
  `,
  `
    ALTER TABLE api_keys ADD COLUMN environment_id TEXT;
    CREATE TABLE work_items (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      environment_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'starting', 'active', 'stopping', 'stopped')),
      created_at TEXT NOT NULL,
      delivered_at TEXT,
      worker_id TEXT,
      acknowledged_at TEXT,
      started_at TEXT,
      last_heartbeat TEXT,
      ttl_seconds INTEGER NOT NULL,
      lease_expires_at TEXT,
      stop_requested_at TEXT,
      stopped_at TEXT,
      metadata TEXT NOT NULL CHECK (metadata::jsonb IS NOT NULL)
    );
    CREATE INDEX work_items_by_environment ON work_items (environment_id, state, sequence);
    CREATE INDEX work_items_by_session ON work_items (session_id, state);
  `,
  `
    CREATE TABLE session_repository_tokens (
      resource_id TEXT PRIMARY KEY,
      session_id TEXT NOT NULL,
      token TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX session_repository_tokens_by_session ON session_repository_tokens (session_id);
  `,
  `
    CREATE TABLE workspaces (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL
    );
    INSERT INTO workspaces (id, name, created_at)
      VALUES ('wrkspc_default', 'default', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
    ALTER TABLE api_keys ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'wrkspc_default';
    ALTER TABLE agents ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'wrkspc_default';
    ALTER TABLE environments ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'wrkspc_default';
    ALTER TABLE file_metadata ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'wrkspc_default';
    ALTER TABLE vaults ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'wrkspc_default';
    CREATE INDEX agents_by_workspace ON agents (workspace_id, sequence);
    CREATE INDEX environments_by_workspace ON environments (workspace_id, sequence);
    CREATE INDEX file_metadata_by_workspace ON file_metadata (workspace_id, sequence);
    CREATE INDEX vaults_by_workspace ON vaults (workspace_id, sequence);
  `,
  `
    ALTER TABLE api_keys ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
    ALTER TABLE api_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
      CHECK (status IN ('active', 'inactive', 'archived'));
    UPDATE api_keys SET status = 'archived' WHERE revoked_at IS NOT NULL;
    ALTER TABLE workspaces ADD COLUMN archived_at TEXT;
  `,
  `
    CREATE TABLE memory_stores (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      metadata TEXT NOT NULL CHECK (metadata::jsonb IS NOT NULL)
    );
    CREATE INDEX memory_stores_by_workspace ON memory_stores (workspace_id, sequence);
    CREATE TABLE memories (
      id TEXT PRIMARY KEY,
      memory_store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      content TEXT NOT NULL,
      content_sha256 TEXT NOT NULL,
      content_size_bytes INTEGER NOT NULL CHECK (content_size_bytes >= 0),
      memory_version_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      UNIQUE (memory_store_id, path)
    );
    CREATE TABLE memory_versions (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      memory_store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
      memory_id TEXT NOT NULL,
      operation TEXT NOT NULL CHECK (operation IN ('created', 'modified', 'deleted')),
      path TEXT,
      content TEXT,
      content_sha256 TEXT,
      content_size_bytes INTEGER,
      created_at TEXT NOT NULL,
      created_by TEXT CHECK (created_by IS NULL OR created_by::jsonb IS NOT NULL),
      session_id TEXT,
      api_key_id TEXT,
      redacted_at TEXT,
      redacted_by TEXT CHECK (redacted_by IS NULL OR redacted_by::jsonb IS NOT NULL)
    );
    CREATE INDEX memory_versions_by_store ON memory_versions (memory_store_id, sequence);
    CREATE INDEX memory_versions_by_memory ON memory_versions (memory_id, sequence);
    CREATE TABLE session_memory_stores (
      memory_store_id TEXT NOT NULL,
      session_id TEXT NOT NULL,
      mount_path TEXT NOT NULL,
      access TEXT NOT NULL CHECK (access IN ('read_write', 'read_only')),
      created_at TEXT NOT NULL,
      PRIMARY KEY (memory_store_id, session_id)
    );
  `,
  `
    CREATE TABLE skills (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      display_name TEXT NOT NULL,
      name TEXT NOT NULL,
      latest_version_id TEXT NOT NULL
    );
    CREATE INDEX skills_by_workspace ON skills (workspace_id, sequence);
    CREATE TABLE skill_versions (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      skill_id TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
      created_at TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      files TEXT NOT NULL CHECK (files::jsonb IS NOT NULL)
    );
    CREATE INDEX skill_versions_by_skill ON skill_versions (skill_id, sequence);
    CREATE TABLE session_skills (
      session_id TEXT NOT NULL,
      skill_id TEXT NOT NULL,
      skill_version_id TEXT NOT NULL,
      name TEXT NOT NULL,
      description TEXT NOT NULL,
      files TEXT NOT NULL CHECK (files::jsonb IS NOT NULL),
      created_at TEXT NOT NULL,
      PRIMARY KEY (session_id, skill_id)
    );
  `,
  `
    CREATE TABLE deployments (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      definition TEXT NOT NULL CHECK (definition::jsonb IS NOT NULL)
    );
    CREATE INDEX deployments_by_workspace ON deployments (workspace_id, sequence);
    CREATE TABLE deployment_runs (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      deployment_id TEXT NOT NULL,
      session_id TEXT,
      record TEXT NOT NULL CHECK (record::jsonb IS NOT NULL)
    );
    CREATE INDEX deployment_runs_by_workspace ON deployment_runs (workspace_id, sequence);
    CREATE INDEX deployment_runs_by_deployment ON deployment_runs (deployment_id, sequence);
  `,
  `
    CREATE TABLE dreams (
      sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      archived_at TEXT,
      status TEXT NOT NULL,
      definition TEXT NOT NULL CHECK (definition::jsonb IS NOT NULL)
    );
    CREATE INDEX dreams_by_workspace ON dreams (workspace_id, sequence);
  `,
  `
    ALTER TABLE vault_credentials
      DROP CONSTRAINT vault_credentials_auth_type_check,
      ADD CONSTRAINT vault_credentials_auth_type_check
        CHECK (auth_type IN ('static_bearer', 'mcp_oauth', 'environment_variable')),
      ADD COLUMN secret_name TEXT,
      ADD COLUMN settings TEXT CHECK (settings IS NULL OR settings::jsonb IS NOT NULL);
  `,
];

/**
 * The PostgreSQL store's migrations: the SQLite store's versions and names (migrations.ts documents what each holds and
 * which columns the worker relies on), with PostgreSQL's types. Times stay RFC 3339 text and JSON stays text, exactly
 * as written, so both stores return byte-identical records and order pages the same way.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = MIGRATIONS.map((migration, index) => {
  const sql = POSTGRES_SQL[index];
  if (sql === undefined) throw new Error(`Migration ${migration.version} has no PostgreSQL SQL.`);
  return { version: migration.version, name: migration.name, sql };
});
