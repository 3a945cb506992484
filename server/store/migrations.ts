import type { Database } from 'better-sqlite3';

/** One schema change of the control-plane store; once released, a migration never changes, a new one follows it. */
export interface Migration {
  /** Applied in ascending order; the first is 1 and each next one adds 1. */
  version: number;
  name: string;
  /** The SQL statements, run in one transaction with the record of the migration. */
  sql: string;
}

/**
 * The SQLite store's migrations, in order. Later ones add tables (API keys, say) rather than edit these. The PostgreSQL
 * store's (postgres-migrations.ts) have the same versions and names, in its dialect: a change goes into both.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'agents, agent versions and environments',
    sql: `
      CREATE TABLE agents (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
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
        definition TEXT NOT NULL CHECK (json_valid(definition)),
        PRIMARY KEY (agent_id, version)
      ) WITHOUT ROWID;
      CREATE INDEX agents_by_created_at ON agents (created_at);
      CREATE TABLE environments (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        definition TEXT NOT NULL CHECK (json_valid(definition))
      );
    `,
  },
  {
    version: 2,
    name: 'file metadata',
    // The content of each file is on disk (KEEL_DATA_DIR/files/<id>); this table holds what the API reports about it.
    sql: `
      CREATE TABLE file_metadata (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        filename TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        created_at TEXT NOT NULL,
        downloadable INTEGER NOT NULL CHECK (downloadable IN (0, 1)),
        expires_at TEXT,
        scope_type TEXT CHECK (scope_type IN ('session')),
        scope_id TEXT,
        CHECK ((scope_type IS NULL) = (scope_id IS NULL))
      );
      CREATE INDEX file_metadata_by_scope ON file_metadata (scope_id, sequence) WHERE scope_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: 'api keys',
    // Only a SHA-256 of each key is kept: keys are long random strings, so a fast hash is enough and none is readable.
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        key_sha256 TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  },
  {
    version: 4,
    name: 'vaults and vault credentials',
    // Secrets (access_token, refresh_token, client_secret) are only ever stored sealed with AES-256-GCM
    // (common/secret-box.ts, context common/credential-secret-context.ts); archiving a credential erases them. The
    // worker's resolver (activities/credentials/sqlite-credential-resolver.ts) reads this file too: it relies on
    // vaults (id, archived_at) and on vault_credentials (id, vault_id, archived_at, auth_type, mcp_server_key,
    // expires_at, refresh, access_token, refresh_token, client_secret, updated_at), and writes the last four columns
    // after a token refresh. Change those columns only together with it. mcp_server_key is mcpServerUrlKey(url):
    // one active credential per MCP server in a vault.
    sql: `
      CREATE TABLE vaults (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        display_name TEXT NOT NULL,
        metadata TEXT NOT NULL CHECK (json_valid(metadata))
      );
      CREATE TABLE vault_credentials (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        display_name TEXT,
        metadata TEXT NOT NULL CHECK (json_valid(metadata)),
        auth_type TEXT NOT NULL CHECK (auth_type IN ('static_bearer', 'mcp_oauth')),
        mcp_server_url TEXT NOT NULL,
        mcp_server_key TEXT NOT NULL,
        expires_at TEXT,
        refresh TEXT CHECK (refresh IS NULL OR json_valid(refresh)),
        access_token TEXT,
        refresh_token TEXT,
        client_secret TEXT,
        CHECK (archived_at IS NOT NULL OR access_token IS NOT NULL)
      );
      CREATE INDEX vault_credentials_by_vault ON vault_credentials (vault_id, sequence);
      CREATE UNIQUE INDEX vault_credentials_one_active_per_server
        ON vault_credentials (vault_id, mcp_server_key) WHERE archived_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'self-hosted environments: environment keys and work items',
    // An API key with an environment_id is that environment's key: it polls the environment's work queue and serves
    // its sessions, nothing else. The worker's Activity (activities/self-hosted/sqlite-work-queue.ts) reads and writes
    // work_items too: it relies on (id, environment_id, session_id, state, created_at, acknowledged_at,
    // lease_expires_at, stopped_at); change those columns only together with it.
    sql: `
      ALTER TABLE api_keys ADD COLUMN environment_id TEXT;
      CREATE TABLE work_items (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
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
        metadata TEXT NOT NULL CHECK (json_valid(metadata))
      );
      CREATE INDEX work_items_by_environment ON work_items (environment_id, state, sequence);
      CREATE INDEX work_items_by_session ON work_items (session_id, state);
    `,
  },
  {
    version: 6,
    name: 'session repository tokens',
    // The authorization_token of each github_repository session resource, only ever stored sealed (common/secret-box.ts,
    // context repositoryTokenContext(session_id, resource_id) in common/credential-secret-context.ts); the session
    // itself lives in Temporal, which never sees a token. The worker's clone Activity reads this table too
    // (activities/credentials/sqlite-repository-token-reader.ts): it relies on resource_id, session_id and token.
    sql: `
      CREATE TABLE session_repository_tokens (
        resource_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX session_repository_tokens_by_session ON session_repository_tokens (session_id);
    `,
  },
  {
    version: 7,
    name: 'workspaces',
    // Every API key belongs to a workspace, and so does every agent, environment, file and vault (a credential through
    // its vault; a session through its Workflow's memo). What existed before belongs to the default workspace
    // (common/workspace.ts), so old setups keep working. The worker's credential reader checks vaults.workspace_id
    // against the session's workspace.
    sql: `
      CREATE TABLE workspaces (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );
      INSERT INTO workspaces (id, name, created_at) VALUES ('wrkspc_default', 'default', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
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
  },
  {
    version: 8,
    name: 'admin keys, key status and archived workspaces',
    // The Admin API (`/v1/organizations/…`): `admin` marks a key that manages workspaces and keys (the configured key
    // is admin without a row); `status` is the hosted key lifecycle (`active`, `inactive` — off but recoverable —,
    // `archived` — for good), and a key revoked before keeps `revoked_at` and reads as archived. An archived workspace
    // keeps its resources; its keys are archived with it.
    sql: `
      ALTER TABLE api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE api_keys ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'archived'));
      UPDATE api_keys SET status = 'archived' WHERE revoked_at IS NOT NULL;
      ALTER TABLE workspaces ADD COLUMN archived_at TEXT;
    `,
  },
  {
    version: 9,
    name: 'memory stores, memories and memory versions',
    // A memory is a UTF-8 text at a path of its store (unique per store; no path is another's ancestor, checked in the
    // write transaction). Every change adds an immutable memory_versions row (only redaction clears its path and
    // content); session_id and api_key_id copy created_by's actor for the version list's filters. Deleting a store
    // deletes its memories and versions. session_memory_stores records which sessions mount a store, where and how (fixed when the session
    // is created), for sessions.list?memory_store_id= and for the worker, which mounts them into the sandbox. The worker's memory sync (activities/memory/sqlite-memory-rows.ts) reads and
    // writes memories and memory_versions too: change their columns only together with it.
    sql: `
      CREATE TABLE memory_stores (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        metadata TEXT NOT NULL CHECK (json_valid(metadata))
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
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        memory_store_id TEXT NOT NULL REFERENCES memory_stores (id) ON DELETE CASCADE,
        memory_id TEXT NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('created', 'modified', 'deleted')),
        path TEXT,
        content TEXT,
        content_sha256 TEXT,
        content_size_bytes INTEGER,
        created_at TEXT NOT NULL,
        created_by TEXT CHECK (created_by IS NULL OR json_valid(created_by)),
        session_id TEXT,
        api_key_id TEXT,
        redacted_at TEXT,
        redacted_by TEXT CHECK (redacted_by IS NULL OR json_valid(redacted_by))
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
  },
  {
    version: 10,
    name: 'skills and skill versions',
    // A skill is a named folder of files (a SKILL.md with YAML front matter and what it refers to); each upload is an
    // immutable skill_versions row whose files (path, SHA-256, size, as JSON) live in the blob store under
    // skills/<sha256>. latest_version_id is the newest version left; deleting a skill deletes its versions.
    // session_skills records the skill versions a session mounts (fixed when it is created, files included, so deleting
    // a version later leaves a running session as it was), for the worker, which mounts them into the sandbox
    // (activities/skills/sqlite-skill-rows.ts reads it: change its columns only together with it).
    sql: `
      CREATE TABLE skills (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
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
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        skill_id TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        files TEXT NOT NULL CHECK (json_valid(files))
      );
      CREATE INDEX skill_versions_by_skill ON skill_versions (skill_id, sequence);
      CREATE TABLE session_skills (
        session_id TEXT NOT NULL,
        skill_id TEXT NOT NULL,
        skill_version_id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        files TEXT NOT NULL CHECK (json_valid(files)),
        created_at TEXT NOT NULL,
        PRIMARY KEY (session_id, skill_id)
      );
    `,
  },
  {
    version: 11,
    name: 'deployments and deployment runs',
    // A deployment's fields are one JSON document; its runs are written once each and listed newest first.
    sql: `
      CREATE TABLE deployments (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        definition TEXT NOT NULL CHECK (json_valid(definition))
      );
      CREATE INDEX deployments_by_workspace ON deployments (workspace_id, sequence);
      CREATE TABLE deployment_runs (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        deployment_id TEXT NOT NULL,
        session_id TEXT,
        record TEXT NOT NULL CHECK (json_valid(record))
      );
      CREATE INDEX deployment_runs_by_workspace ON deployment_runs (workspace_id, sequence);
      CREATE INDEX deployment_runs_by_deployment ON deployment_runs (deployment_id, sequence);
    `,
  },
  {
    version: 12,
    name: 'dreams',
    // A dream (server/dreams/) is its request and what Keel last read of the session that runs it, as one JSON
    // document; status is a column of its own so that a final status reads without parsing.
    sql: `
      CREATE TABLE dreams (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        status TEXT NOT NULL,
        definition TEXT NOT NULL CHECK (json_valid(definition))
      );
      CREATE INDEX dreams_by_workspace ON dreams (workspace_id, sequence);
    `,
  },
  {
    version: 13,
    name: 'environment_variable vault credentials',
    // An environment_variable credential (server/vaults/credentials/) keeps its secret_value sealed in access_token
    // (context credentialSecretContext(id, 'access_token')), its secret_name in secret_name, its networking and
    // injection_location as JSON in settings, '' as mcp_server_url and 'environment_variable:<secret_name>' as
    // mcp_server_key, so the unique index keeps one active credential per secret_name in a vault. SQLite cannot change
    // a CHECK constraint in place: the table is rebuilt with the same rows and sequence numbers. The worker's
    // resolver reads secret_name and settings too (activities/credentials/environment-variable-rows.ts).
    sql: `
      CREATE TABLE vault_credentials_next (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        archived_at TEXT,
        display_name TEXT,
        metadata TEXT NOT NULL CHECK (json_valid(metadata)),
        auth_type TEXT NOT NULL CHECK (auth_type IN ('static_bearer', 'mcp_oauth', 'environment_variable')),
        mcp_server_url TEXT NOT NULL,
        mcp_server_key TEXT NOT NULL,
        expires_at TEXT,
        refresh TEXT CHECK (refresh IS NULL OR json_valid(refresh)),
        access_token TEXT,
        refresh_token TEXT,
        client_secret TEXT,
        secret_name TEXT,
        settings TEXT CHECK (settings IS NULL OR json_valid(settings)),
        CHECK (archived_at IS NOT NULL OR access_token IS NOT NULL)
      );
      INSERT INTO vault_credentials_next (sequence, id, vault_id, created_at, updated_at, archived_at, display_name,
          metadata, auth_type, mcp_server_url, mcp_server_key, expires_at, refresh, access_token, refresh_token,
          client_secret)
        SELECT sequence, id, vault_id, created_at, updated_at, archived_at, display_name, metadata, auth_type,
          mcp_server_url, mcp_server_key, expires_at, refresh, access_token, refresh_token, client_secret
        FROM vault_credentials;
      DROP TABLE vault_credentials;
      ALTER TABLE vault_credentials_next RENAME TO vault_credentials;
      CREATE INDEX vault_credentials_by_vault ON vault_credentials (vault_id, sequence);
      CREATE UNIQUE INDEX vault_credentials_one_active_per_server
        ON vault_credentials (vault_id, mcp_server_key) WHERE archived_at IS NULL;
    `,
  },
];

/** The store's schema is newer than this Keel knows (a newer Keel wrote it), or a migration was edited after release. */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError';
}

/** Throws a `StoreSchemaError` unless `migrations` are numbered 1, 2, 3… in order. */
export function checkMigrationOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new StoreSchemaError(
        `Migration "${migration.name}" has version ${migration.version}, expected ${index + 1}.`,
      );
    }
  });
}

/**
 * The migrations still to apply to a store that records `applied` (its `schema_migrations` rows, by version); throws a
 * `StoreSchemaError` when the store knows a migration this Keel does not, or names one differently. Shared by the
 * SQLite and PostgreSQL stores, which keep the same versions and names.
 */
export function pendingMigrations(
  applied: ReadonlyArray<{ version: number; name: string }>,
  migrations: readonly Migration[],
): readonly Migration[] {
  for (const row of applied) {
    const known = migrations[row.version - 1];
    if (known === undefined) {
      throw new StoreSchemaError(
        `The store has migration ${row.version} ("${row.name}"), which this Keel does not know: a newer Keel wrote it.`,
      );
    }
    if (known.name !== row.name) {
      throw new StoreSchemaError(
        `The store's migration ${row.version} is "${row.name}", but this Keel's is "${known.name}".`,
      );
    }
  }
  return migrations.slice(applied.length);
}

/**
 * Brings the database up to the last of `migrations`, in one immediate (write-locked) transaction, so that two
 * processes opening the same file apply each migration once. Returns the versions applied now (none on a reopen).
 */
export function applyMigrations(database: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkMigrationOrder(migrations);
  const migrate = database.transaction((): number[] => {
    database.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = database
      .prepare<[], { version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')
      .all();
    const record = database.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const appliedNow: number[] = [];
    for (const migration of pendingMigrations(applied, migrations)) {
      database.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
      appliedNow.push(migration.version);
    }
    return appliedNow;
  });
  return migrate.immediate();
}
