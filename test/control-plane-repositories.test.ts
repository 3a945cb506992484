import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCredentialRows } from '../activities/credentials/postgres-credential-rows';
import { PostgresRepositoryTokenReader } from '../activities/credentials/postgres-repository-token-reader';
import { SqliteCredentialRows } from '../activities/credentials/sqlite-credential-resolver';
import { SqliteRepositoryTokenReader } from '../activities/credentials/sqlite-repository-token-reader';
import type { CredentialRows } from '../activities/credentials/vault-credential-resolver';
import { PostgresWorkQueue } from '../activities/self-hosted/postgres-work-queue';
import { SqliteWorkQueue } from '../activities/self-hosted/sqlite-work-queue';
import type { SelfHostedWorkQueue } from '../activities/self-hosted/sqlite-work-queue';
import { repositoryTokenContext } from '../common/credential-secret-context';
import type { RepositoryTokenReader } from '../common/credentials';
import { mcpServerUrlKey } from '../common/mcp-server-url-key';
import { generateSecretKey, sealSecret } from '../common/secret-box';
import type {
  AgentDefinition,
  ControlPlaneStore,
  NewApiKey,
  StoredAgent,
  StoredCredential,
  StoredEnvironment,
  StoredFile,
  StoredVault,
} from '../server/store/control-plane-store';
import { applyMigrations, MIGRATIONS, StoreSchemaError } from '../server/store/migrations';
import type { Migration } from '../server/store/migrations';
import { openPostgresStore } from '../server/store/open-postgres-store';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import { POSTGRES_MIGRATIONS } from '../server/store/postgres-migrations';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';
import { AdminService } from '../server/organizations/admin-service';
import { PostgresMemoryRows } from '../activities/memory/postgres-memory-rows';
import { SqliteMemoryRows } from '../activities/memory/sqlite-memory-rows';
import type { SessionMemoryRows } from '../common/memory';
import type { StoredMemoryStore } from '../server/store/memory-store-repository';
import { PostgresSkillRows } from '../activities/skills/postgres-skill-rows';
import { SqliteSkillRows } from '../activities/skills/sqlite-skill-rows';
import type { SandboxSkillMount, SessionSkillRows } from '../common/skills';
import type { StoredSkill, StoredSkillVersion } from '../server/store/skill-repository';

/** One store under test: how to open it (again) with given migrations, and the worker's views of the same database. */
interface StoreUnderTest {
  open(migrations?: readonly Migration[]): Promise<ControlPlaneStore & { appliedMigrations: number[] }>;
  workerViews(secretKey: Uint8Array): {
    credentialRows: CredentialRows;
    tokens: RepositoryTokenReader;
    workQueue: SelfHostedWorkQueue;
    memoryRows: SessionMemoryRows;
    skillRows: SessionSkillRows;
    close(): Promise<void>;
  };
  cleanUp(): Promise<void>;
}

let postgres: PrivatePostgres;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
});

/** A fresh SQLite file in a fresh folder. */
function sqliteStore(): StoreUnderTest {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'keel-repositories-'));
  const filename = storeFilePath(dataDir);
  return {
    open: (migrations) => Promise.resolve(openSqliteStore({ filename, ...(migrations ? { migrations } : {}) })),
    workerViews: (secretKey) => {
      const credentialRows = new SqliteCredentialRows(filename);
      const tokens = new SqliteRepositoryTokenReader({ filename, secretKey });
      const workQueue = new SqliteWorkQueue(filename);
      const memoryRows = new SqliteMemoryRows(filename);
      const skillRows = new SqliteSkillRows(filename);
      return {
        credentialRows,
        tokens,
        workQueue,
        memoryRows,
        skillRows,
        close: () => {
          skillRows.close();
          credentialRows.close();
          tokens.close();
          workQueue.close();
          memoryRows.close();
          return Promise.resolve();
        },
      };
    },
    cleanUp: () => {
      rmSync(dataDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** A fresh database of the private PostgreSQL cluster. */
async function postgresStore(): Promise<StoreUnderTest> {
  const url = await postgres.createDatabase();
  return {
    open: (migrations) => openPostgresStore({ url, ...(migrations ? { migrations } : {}) }),
    workerViews: (secretKey) => {
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      return {
        credentialRows: new PostgresCredentialRows(pool),
        tokens: new PostgresRepositoryTokenReader(pool, secretKey),
        workQueue: new PostgresWorkQueue(pool),
        memoryRows: new PostgresMemoryRows(pool),
        skillRows: new PostgresSkillRows(pool),
        close: () => pool.end(),
      };
    },
    cleanUp: () => Promise.resolve(),
  };
}

function definition(name: string, system = 'Be brief.'): AgentDefinition {
  return {
    name,
    description: null,
    model: { id: 'scripted-model' },
    system,
    tools: [],
    mcp_servers: [],
    skills: [],
    metadata: { team: 'store', ünïcode: '✓' },
    execution_identity: { type: 'service_account' },
    multiagent: null,
  };
}

function agent(id: string, createdAt = new Date().toISOString()): StoredAgent {
  return {
    id,
    workspaceId: DEFAULT_WORKSPACE_ID,
    version: 1,
    createdAt,
    updatedAt: createdAt,
    archivedAt: null,
    definition: definition(id),
  };
}

function environment(id: string): StoredEnvironment {
  const now = new Date().toISOString();
  return {
    id,
    workspaceId: DEFAULT_WORKSPACE_ID,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
    definition: {
      name: id,
      description: null,
      metadata: {},
      scope: 'organization',
      config: {
        type: 'cloud',
        networking: { type: 'unrestricted' },
        packages: { type: 'packages', apt: ['jq'], cargo: [], gem: [], go: [], npm: [], pip: [] },
      },
    },
  };
}

function vault(id: string): StoredVault {
  const now = new Date().toISOString();
  return {
    id,
    workspaceId: DEFAULT_WORKSPACE_ID,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
    displayName: id,
    metadata: { owner: 'tests' },
  };
}

function credential(id: string, vaultId: string, url: string, accessToken = `sealed-${id}`): StoredCredential {
  const now = new Date().toISOString();
  return {
    id,
    vaultId,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
    displayName: null,
    metadata: {},
    auth: { type: 'static_bearer', mcp_server_url: url },
    secrets: { accessToken, refreshToken: null, clientSecret: null },
  };
}

function file(id: string, scopeId: string | null): StoredFile {
  return {
    id,
    workspaceId: DEFAULT_WORKSPACE_ID,
    filename: `${id}.txt`,
    mimeType: 'text/plain',
    sizeBytes: 5_000_000_000,
    createdAt: new Date().toISOString(),
    downloadable: scopeId !== null,
    expiresAt: null,
    scope: scopeId === null ? null : { type: 'session', id: scopeId },
  };
}

describe('migration 8 (admin keys, key status, archived workspaces) on a SQLite store at migration 7', () => {
  it('a key revoked before reads as archived, the others as active non-admin keys; no workspace is archived', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'keel-migration-8-'));
    try {
      const filename = path.join(folder, 'keel.sqlite');
      const database = new Database(filename);
      applyMigrations(database, MIGRATIONS.slice(0, 7));
      const at = new Date().toISOString();
      const insert = database.prepare(
        'INSERT INTO api_keys (id, key_sha256, name, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
      );
      insert.run('apikey_old1', 'd'.repeat(64), 'old', at, null);
      insert.run('apikey_old2', 'e'.repeat(64), 'old revoked', at, at);
      database.close();
      const store = openSqliteStore({ filename });
      try {
        expect(store.appliedMigrations).toEqual(MIGRATIONS.slice(7).map((migration) => migration.version));
        expect((await store.apiKeys.list()).map((key) => [key.id, key.admin, key.status, key.revokedAt])).toEqual([
          ['apikey_old1', false, 'active', null],
          ['apikey_old2', false, 'archived', at],
        ]);
        expect(await store.apiKeys.findActive('e'.repeat(64))).toBeNull();
        expect((await store.workspaces.list()).map((workspace) => workspace.archivedAt)).toEqual([null]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('migration 13 (environment_variable credentials) on a SQLite store at migration 12', () => {
  it('rebuilds vault_credentials keeping every row and its sequence, and then takes environment_variable ones', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'keel-migration-13-'));
    try {
      const filename = path.join(folder, 'keel.sqlite');
      const database = new Database(filename);
      applyMigrations(database, MIGRATIONS.slice(0, 12));
      const at = new Date().toISOString();
      database
        .prepare('INSERT INTO vaults (id, created_at, updated_at, display_name, metadata) VALUES (?, ?, ?, ?, ?)')
        .run('vlt_migrate130001', at, at, 'old', '{}');
      database
        .prepare(
          `INSERT INTO vault_credentials (sequence, id, vault_id, created_at, updated_at, metadata, auth_type,
             mcp_server_url, mcp_server_key, access_token) VALUES (41, ?, ?, ?, ?, '{}', 'static_bearer', ?, ?, ?)`,
        )
        .run('vcrd_migrate13001', 'vlt_migrate130001', at, at, 'https://x.test/mcp', 'https://x.test/mcp', 'sealed');
      database.close();
      const store = openSqliteStore({ filename });
      try {
        expect(store.appliedMigrations).toEqual(MIGRATIONS.slice(12).map((migration) => migration.version));
        expect(await store.credentials.get('vlt_migrate130001', 'vcrd_migrate13001')).toMatchObject({
          auth: { type: 'static_bearer', mcp_server_url: 'https://x.test/mcp' },
          secrets: { accessToken: 'sealed' },
        });
        const next = {
          ...credential('vcrd_migrate13002', 'vlt_migrate130001', ''),
          auth: {
            type: 'environment_variable' as const,
            secret_name: 'TOKEN',
            networking: { type: 'unrestricted' as const },
            injection_location: { header: true, body: false },
          },
        };
        expect(await store.credentials.insert(next)).toBe('inserted');
        const page = await store.credentials.list('vlt_migrate130001', {
          includeArchived: true,
          limit: 1,
          cursor: null,
        });
        expect(page.items.map((item) => item.id)).toEqual(['vcrd_migrate13002']);
        // Sequences go on from the rows kept: the old credential is the next page, after its own sequence.
        const rest = await store.credentials.list('vlt_migrate130001', {
          includeArchived: true,
          limit: 5,
          cursor: page.nextCursor,
        });
        expect(rest.items.map((item) => item.id)).toEqual(['vcrd_migrate13001']);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('the PostgreSQL migrations', () => {
  it('have the SQLite migrations’ versions and names, in order', () => {
    expect(POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name }))).toEqual(
      MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
  });
});

describe.each([
  ['SQLite', () => Promise.resolve(sqliteStore())],
  ['PostgreSQL', postgresStore],
] as const)('the control-plane repositories on %s', (_name, makeStore) => {
  let subject: StoreUnderTest;
  const opened: ControlPlaneStore[] = [];

  async function open(migrations?: readonly Migration[]): Promise<ControlPlaneStore & { appliedMigrations: number[] }> {
    const store = await subject.open(migrations);
    opened.push(store);
    return store;
  }

  async function fresh(): Promise<ControlPlaneStore> {
    subject = await makeStore();
    return open();
  }

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await subject?.cleanUp();
  });

  it('migrations: a new store gets every one once, a reopen none, a later one alone, and an unknown one is refused', async () => {
    subject = await makeStore();
    const first = await open();
    expect(first.appliedMigrations).toEqual(MIGRATIONS.map((migration) => migration.version));
    await first.agents.insert(agent('agent_survivor0001'));
    const [second, third] = await Promise.all([open(), open()]);
    expect(second.appliedMigrations).toEqual([]);
    expect(third.appliedMigrations).toEqual([]);
    expect(await second.agents.get('agent_survivor0001')).toEqual(agent('agent_survivor0001', expect.any(String)));

    const later: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'a later table',
      sql: 'CREATE TABLE later_things (id TEXT PRIMARY KEY)',
    };
    const withLater = await open([...MIGRATIONS, later]);
    expect(withLater.appliedMigrations).toEqual([later.version]);
    await expect(open()).rejects.toThrow(StoreSchemaError);
    await expect(open([...MIGRATIONS, { ...later, name: 'something else' }])).rejects.toThrow(/a later table/);
  });

  it('workspaces: the default one exists, a name is made once, and listings filter by workspace', async () => {
    const store = await fresh();
    expect((await store.workspaces.list()).map((workspace) => [workspace.id, workspace.name])).toEqual([
      [DEFAULT_WORKSPACE_ID, 'default'],
    ]);
    const at = new Date().toISOString();
    const team = await store.workspaces.ensure({ id: 'wrkspc_team1', name: 'team', createdAt: at });
    expect(team).toEqual({ id: 'wrkspc_team1', name: 'team', createdAt: at, archivedAt: null });
    expect(await store.workspaces.ensure({ id: 'wrkspc_team2', name: 'team', createdAt: at })).toEqual(team);
    expect(await store.workspaces.findByName('team')).toEqual(team);
    expect(await store.workspaces.findByName('nobody')).toBeNull();

    await store.agents.insert({ ...agent('agent_team00000001'), workspaceId: team.id });
    await store.agents.insert(agent('agent_default000001'));
    await store.environments.insert({ ...environment('env_team000000001'), workspaceId: team.id });
    await store.environments.insert(environment('env_default0000001'));
    await store.vaults.insert({ ...vault('vlt_team000000001'), workspaceId: team.id });
    await store.files.insert({ ...file('file_team00000001', null), workspaceId: team.id });
    await store.files.insert(file('file_default000001', null));
    const page = { limit: 10, cursor: null };
    const ids = async (workspaceId?: string): Promise<string[][]> => [
      (
        await store.agents.list({
          ...page,
          workspaceId,
          includeArchived: true,
          createdAtOrAfter: null,
          createdAtOrBefore: null,
        })
      ).items.map((item) => item.id),
      (await store.environments.list({ ...page, workspaceId, includeArchived: true })).items.map((item) => item.id),
      (await store.vaults.list({ ...page, workspaceId, includeArchived: true })).items.map((item) => item.id),
      (await store.files.list({ ...page, workspaceId, scopeId: null })).items.map((item) => item.id),
    ];
    expect(await ids(team.id)).toEqual([
      ['agent_team00000001'],
      ['env_team000000001'],
      ['vlt_team000000001'],
      ['file_team00000001'],
    ]);
    expect(await ids(DEFAULT_WORKSPACE_ID)).toEqual([
      ['agent_default000001'],
      ['env_default0000001'],
      [],
      ['file_default000001'],
    ]);
    expect((await ids()).map((kind) => kind.length)).toEqual([2, 2, 1, 2]);
    expect((await store.agents.get('agent_team00000001'))?.workspaceId).toBe(team.id);
    expect((await store.files.get('file_team00000001'))?.workspaceId).toBe(team.id);
  });

  it('agents: versions stack up, a refused change writes nothing, pages and filters work', async () => {
    const store = await fresh();
    await store.agents.insert(agent('agent_versioned0001'));
    const second = await store.agents.appendVersion(
      'agent_versioned0001',
      (latest) => ({ ...latest.definition, system: 'Version two.' }),
      new Date().toISOString(),
    );
    expect(second).toMatchObject({ version: 2, definition: { system: 'Version two.' } });
    await expect(
      store.agents.appendVersion(
        'agent_versioned0001',
        () => {
          throw new Error('refused');
        },
        new Date().toISOString(),
      ),
    ).rejects.toThrow('refused');
    expect(
      (await store.agents.appendVersion('agent_versioned0001', () => null, new Date().toISOString()))?.version,
    ).toBe(2);
    expect((await store.agents.get('agent_versioned0001', 1))?.definition).toEqual(definition('agent_versioned0001'));
    expect(await store.agents.get('agent_versioned0001', 3)).toBeNull();
    expect(await store.agents.appendVersion('agent_nosuchagent01', () => null, new Date().toISOString())).toBeNull();
    const versions = await store.agents.listVersions('agent_versioned0001', { limit: 1, cursor: null });
    expect(versions?.items.map((item) => item.version)).toEqual([2]);
    expect(
      await store.agents.listVersions('agent_versioned0001', { limit: 1, cursor: versions?.nextCursor ?? null }),
    ).toMatchObject({ items: [{ version: 1, updatedAt: expect.any(String) }], nextCursor: null });
    expect(await store.agents.listVersions('agent_nosuchagent01', { limit: 1, cursor: null })).toBeNull();

    const times = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'];
    for (const [index, time] of times.entries()) await store.agents.insert(agent(`agent_listed00000${index}`, time));
    const archived = await store.agents.archive('agent_listed000001', '2026-04-01T00:00:00.000Z');
    expect(archived).toMatchObject({ archivedAt: '2026-04-01T00:00:00.000Z', updatedAt: '2026-04-01T00:00:00.000Z' });
    expect((await store.agents.archive('agent_listed000001', new Date().toISOString()))?.archivedAt).toBe(
      '2026-04-01T00:00:00.000Z',
    );
    const request = { includeArchived: true, createdAtOrAfter: '2026-01-01T00:00:00.000Z', createdAtOrBefore: null };
    const first = await store.agents.list({ ...request, createdAtOrBefore: times[2] ?? null, limit: 2, cursor: null });
    expect(first.items.map((item) => item.id)).toEqual(['agent_listed000002', 'agent_listed000001']);
    const next = await store.agents.list({
      ...request,
      createdAtOrBefore: times[2] ?? null,
      limit: 2,
      cursor: first.nextCursor,
    });
    expect(next).toMatchObject({ items: [{ id: 'agent_listed000000' }], nextCursor: null });
    const active = await store.agents.list({
      ...request,
      includeArchived: false,
      createdAtOrBefore: times[2] ?? null,
      limit: 10,
      cursor: null,
    });
    expect(active.items.map((item) => item.id)).toEqual(['agent_listed000002', 'agent_listed000000']);
    await expect(store.agents.list({ ...request, limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(RangeError);
  });

  it('agents: concurrent version appends through two stores each land once, with no gap', async () => {
    const store = await fresh();
    const other = await open();
    await store.agents.insert(agent('agent_contended001'));
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        (index % 2 === 0 ? store : other).agents.appendVersion(
          'agent_contended001',
          (latest) => ({ ...latest.definition, system: `after ${latest.version}` }),
          new Date().toISOString(),
        ),
      ),
    );
    const latest = await other.agents.get('agent_contended001');
    expect(latest?.version).toBe(13);
    const page = await store.agents.listVersions('agent_contended001', { limit: 20, cursor: null });
    expect(page?.items.map((item) => item.definition.system)).toEqual([
      ...Array.from({ length: 12 }, (_, index) => `after ${12 - index}`),
      'Be brief.',
    ]);
  });

  it('environments and vaults: archived in place, paged newest first, updated atomically, deleted', async () => {
    const store = await fresh();
    const other = await open();
    for (const id of ['env_a000000000001', 'env_b000000000001', 'env_c000000000001']) {
      await store.environments.insert(environment(id));
    }
    const archived = await other.environments.update('env_b000000000001', (current) => ({
      ...current,
      archivedAt: current.updatedAt,
      definition: { ...current.definition, description: 'gone' },
    }));
    expect(archived).toMatchObject({ archivedAt: expect.any(String), definition: { description: 'gone' } });
    await expect(
      store.environments.update('env_a000000000001', () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.environments.update('env_nosuchthing001', (current) => current)).toBeNull();
    const active = await store.environments.list({ includeArchived: false, limit: 10, cursor: null });
    expect(active.items.map((item) => item.id)).toEqual(['env_c000000000001', 'env_a000000000001']);
    const firstPage = await store.environments.list({ includeArchived: true, limit: 2, cursor: null });
    const secondPage = await store.environments.list({ includeArchived: true, limit: 2, cursor: firstPage.nextCursor });
    expect([...firstPage.items, ...secondPage.items].map((item) => item.id)).toEqual([
      'env_c000000000001',
      'env_b000000000001',
      'env_a000000000001',
    ]);
    expect(secondPage.nextCursor).toBeNull();
    expect(await store.environments.get('env_a000000000001')).toMatchObject({
      id: 'env_a000000000001',
      archivedAt: null,
      definition: environment('env_a000000000001').definition,
    });
    expect(await store.environments.delete('env_a000000000001')).toBe(true);
    expect(await other.environments.delete('env_a000000000001')).toBe(false);

    const first = vault('vlt_first00000001');
    await store.vaults.insert(first);
    expect(await other.vaults.get('vlt_first00000001')).toEqual(first);
  });

  it('credentials: one active per MCP server, only in a live vault, archived and deleted with their vault', async () => {
    const store = await fresh();
    await store.vaults.insert(vault('vlt_creds00000001'));
    const url = 'https://mcp.example.com/mcp';
    expect(await store.credentials.insert(credential('vcrd_first0000001', 'vlt_creds00000001', url))).toBe('inserted');
    expect(await store.credentials.insert(credential('vcrd_second000001', 'vlt_creds00000001', `${url}/`))).toBe(
      'mcp_server_taken',
    );
    expect(await store.credentials.insert(credential('vcrd_orphan000001', 'vlt_nosuchvault01', url))).toBe(
      'vault_not_found',
    );
    const updated = await store.credentials.update('vlt_creds00000001', 'vcrd_first0000001', (current) => ({
      ...current,
      archivedAt: current.updatedAt,
      secrets: null,
    }));
    expect(updated).toMatchObject({ archivedAt: expect.any(String), secrets: null });
    expect(await store.credentials.insert(credential('vcrd_second000001', 'vlt_creds00000001', url))).toBe('inserted');
    const page = await store.credentials.list('vlt_creds00000001', { includeArchived: false, limit: 10, cursor: null });
    expect(page.items.map((item) => item.id)).toEqual(['vcrd_second000001']);
    const all = await store.credentials.list('vlt_creds00000001', { includeArchived: true, limit: 1, cursor: null });
    expect(all.items.map((item) => item.id)).toEqual(['vcrd_second000001']);
    expect(
      (await store.credentials.list('vlt_creds00000001', { includeArchived: true, limit: 1, cursor: all.nextCursor }))
        .items[0]?.id,
    ).toBe('vcrd_first0000001');
    expect(await store.credentials.get('vlt_other00000001', 'vcrd_second000001')).toBeNull();

    await store.vaults.update('vlt_creds00000001', (current) => ({ ...current, archivedAt: current.updatedAt }));
    expect(
      await store.credentials.insert(credential('vcrd_third0000001', 'vlt_creds00000001', 'https://x.test/')),
    ).toBe('vault_archived');
    expect(await store.vaults.delete('vlt_creds00000001')).toBe(true);
    expect(await store.credentials.get('vlt_creds00000001', 'vcrd_second000001')).toBeNull();
  });

  it('files and API keys: kept exactly, listed by scope, revoked and deleted', async () => {
    const store = await fresh();
    await store.files.insert(file('file_upload000001', null));
    await store.files.insert(file('file_session00001', 'sesn_0000000000001'));
    await store.files.insert(file('file_session00002', 'sesn_0000000000001'));
    expect(await store.files.get('file_upload000001')).toMatchObject({
      sizeBytes: 5_000_000_000,
      downloadable: false,
      scope: null,
    });
    expect(
      (await store.files.getMany(['file_session00001', 'file_nosuchfile01', 'file_upload000001'])).map(
        (item) => item.id,
      ),
    ).toEqual(['file_session00001', 'file_upload000001']);
    const scoped = await store.files.list({ scopeId: 'sesn_0000000000001', limit: 1, cursor: null });
    expect(scoped.items).toMatchObject([{ id: 'file_session00002', downloadable: true, scope: { type: 'session' } }]);
    expect(
      (await store.files.list({ scopeId: 'sesn_0000000000001', limit: 1, cursor: scoped.nextCursor })).items[0]?.id,
    ).toBe('file_session00001');
    expect(await store.files.delete('file_upload000001')).toBe(true);
    expect(await store.files.delete('file_upload000001')).toBe(false);

    const key = {
      id: 'apikey_1',
      keySha256: 'a'.repeat(64),
      name: 'ci',
      createdAt: new Date().toISOString(),
      revokedAt: null,
      environmentId: 'env_1',
      workspaceId: DEFAULT_WORKSPACE_ID,
    };
    await store.apiKeys.insert(key);
    await store.apiKeys.insert({ ...key, id: 'apikey_2', name: 'same hash' });
    const stored = { ...key, admin: false, status: 'active' };
    expect(await store.apiKeys.list()).toEqual([stored]);
    expect(await store.apiKeys.findActive(key.keySha256)).toEqual(stored);
    const revokedAt = new Date().toISOString();
    expect(await store.apiKeys.revoke('apikey_1', revokedAt)).toBe(true);
    expect(await store.apiKeys.revoke('apikey_1', new Date().toISOString())).toBe(false);
    expect(await store.apiKeys.findActive(key.keySha256)).toBeNull();
    expect(await store.apiKeys.get('apikey_1')).toEqual({ ...stored, status: 'archived', revokedAt });
  });

  it('admin API: a rename that loses the race for a name answers 409 conflict_error and renames nothing', async () => {
    const store = await fresh();
    const at = new Date().toISOString();
    await store.workspaces.ensure({ id: 'wrkspc_one', name: 'one', createdAt: at });
    await store.workspaces.ensure({ id: 'wrkspc_two', name: 'two', createdAt: at });
    // Another request takes the name between the service's check and its write: the check sees it free once.
    const findByName = store.workspaces.findByName.bind(store.workspaces);
    let checks = 0;
    store.workspaces.findByName = (name) => (checks++ === 0 ? Promise.resolve(null) : findByName(name));
    await expect(new AdminService(store).updateWorkspace('wrkspc_two', { name: 'one' })).rejects.toMatchObject({
      type: 'conflict_error',
    });
    expect((await store.workspaces.get('wrkspc_two'))?.name).toBe('two');
  });

  it('admin API: admin keys, key status (inactive comes back, archived not), workspaces renamed and archived', async () => {
    const store = await fresh();
    const at = new Date().toISOString();
    const team = await store.workspaces.ensure({ id: 'wrkspc_team1', name: 'team', createdAt: at });
    const key = (id: string, hash: string, workspaceId: string, admin?: boolean): NewApiKey => ({
      id,
      keySha256: hash.repeat(64),
      name: id,
      createdAt: at,
      revokedAt: null,
      environmentId: null,
      workspaceId,
      ...(admin === undefined ? {} : { admin }),
    });
    await store.apiKeys.insert(key('apikey_admin', 'a', DEFAULT_WORKSPACE_ID, true));
    await store.apiKeys.insert(key('apikey_team1', 'b', team.id));
    await store.apiKeys.insert(key('apikey_team2', 'c', team.id, false));
    expect((await store.apiKeys.list()).map((stored) => [stored.id, stored.admin, stored.status])).toEqual([
      ['apikey_admin', true, 'active'],
      ['apikey_team1', false, 'active'],
      ['apikey_team2', false, 'active'],
    ]);
    expect(await store.apiKeys.get('apikey_nobody')).toBeNull();
    expect(await store.apiKeys.update('apikey_nobody', { name: 'x' }, at)).toBeNull();

    // inactive: refused, and recoverable; a rename alone keeps the status.
    expect(await store.apiKeys.update('apikey_team1', { status: 'inactive' }, at)).toMatchObject({
      status: 'inactive',
      revokedAt: null,
    });
    expect(await store.apiKeys.findActive('b'.repeat(64))).toBeNull();
    expect(await store.apiKeys.update('apikey_team1', { name: 'renamed' }, at)).toMatchObject({
      name: 'renamed',
      status: 'inactive',
    });
    expect(await store.apiKeys.update('apikey_team1', { status: 'active' }, at)).toMatchObject({ status: 'active' });
    expect(await store.apiKeys.findActive('b'.repeat(64))).toMatchObject({ id: 'apikey_team1', name: 'renamed' });

    // A workspace renamed, then archived with its keys; the default workspace's keys are untouched.
    expect(await store.workspaces.get(team.id)).toEqual(team);
    expect(await store.workspaces.get('wrkspc_nobody')).toBeNull();
    expect(await store.workspaces.rename(team.id, 'crew')).toEqual({ ...team, name: 'crew' });
    expect(await store.workspaces.findByName('crew')).toMatchObject({ id: team.id });
    expect(await store.workspaces.rename('wrkspc_nobody', 'x')).toBeNull();
    const archivedAt = new Date().toISOString();
    expect(await store.workspaces.archive(team.id, archivedAt)).toEqual({ ...team, name: 'crew', archivedAt });
    expect(await store.workspaces.archive(team.id, new Date(Date.now() + 1000).toISOString())).toMatchObject({
      archivedAt,
    });
    expect(await store.workspaces.archive('wrkspc_nobody', archivedAt)).toBeNull();
    expect((await store.apiKeys.list()).map((stored) => [stored.id, stored.status, stored.revokedAt])).toEqual([
      ['apikey_admin', 'active', null],
      ['apikey_team1', 'archived', archivedAt],
      ['apikey_team2', 'archived', archivedAt],
    ]);
    expect(await store.apiKeys.findActive('c'.repeat(64))).toBeNull();
    expect((await store.workspaces.list()).map((workspace) => workspace.archivedAt)).toEqual([null, archivedAt]);
  });

  it('repository tokens: rotated in place, never moved to another session, read by the worker', async () => {
    const store = await fresh();
    const secretKey = generateSecretKey();
    const views = subject.workerViews(secretKey);
    try {
      const seal = (session: string, resource: string, token: string): string =>
        sealSecret(secretKey, token, repositoryTokenContext(session, resource));
      const at = new Date().toISOString();
      await store.repositoryTokens.put('sesn_a', 'sesrsc_1', seal('sesn_a', 'sesrsc_1', 'first'), at);
      await store.repositoryTokens.put('sesn_a', 'sesrsc_1', seal('sesn_a', 'sesrsc_1', 'rotated'), at);
      await store.repositoryTokens.put('sesn_b', 'sesrsc_1', seal('sesn_b', 'sesrsc_1', 'stolen'), at);
      await store.repositoryTokens.put('sesn_a', 'sesrsc_2', seal('sesn_a', 'sesrsc_2', 'second'), at);
      expect(await views.tokens.repositoryToken('sesn_a', 'sesrsc_1')).toBe('rotated');
      expect(await views.tokens.repositoryToken('sesn_b', 'sesrsc_1')).toBeNull();
      expect(await store.repositoryTokens.delete('sesn_b', 'sesrsc_1')).toBe(false);
      expect(await store.repositoryTokens.delete('sesn_a', 'sesrsc_2')).toBe(true);
      expect(await store.repositoryTokens.deleteSession('sesn_a')).toBe(1);
      expect(await views.tokens.repositoryToken('sesn_a', 'sesrsc_1')).toBeNull();
    } finally {
      await views.close();
    }
  });

  it('credential rows: the worker finds active credentials and stores a refresh only over the token it replaced', async () => {
    const store = await fresh();
    const views = subject.workerViews(generateSecretKey());
    try {
      await store.vaults.insert(vault('vlt_worker0000001'));
      const url = 'https://mcp.example.com/mcp';
      await store.credentials.insert(credential('vcrd_worker000001', 'vlt_worker0000001', url, 'sealed-old'));
      const row = await views.credentialRows.findActive(
        'vlt_worker0000001',
        mcpServerUrlKey(url),
        DEFAULT_WORKSPACE_ID,
      );
      expect(row).toMatchObject({ id: 'vcrd_worker000001', auth_type: 'static_bearer', access_token: 'sealed-old' });
      const refreshed = {
        id: 'vcrd_worker000001',
        accessToken: 'sealed-new',
        refreshToken: null,
        expiresAt: '2030-01-01T00:00:00.000Z',
        updatedAt: new Date().toISOString(),
      };
      expect(await views.credentialRows.storeRefreshed({ ...refreshed, previousAccessToken: 'sealed-old' })).toBe(true);
      expect(await views.credentialRows.storeRefreshed({ ...refreshed, previousAccessToken: 'sealed-old' })).toBe(
        false,
      );
      expect((await store.credentials.get('vlt_worker0000001', 'vcrd_worker000001'))?.secrets?.accessToken).toBe(
        'sealed-new',
      );
      await store.vaults.update('vlt_worker0000001', (current) => ({ ...current, archivedAt: current.updatedAt }));
      expect(await views.credentialRows.findById('vcrd_worker000001')).toBeNull();
    } finally {
      await views.close();
    }
  });

  it('environment_variable credentials: one active per secret_name, settings updated, read by the worker', async () => {
    const store = await fresh();
    const views = subject.workerViews(generateSecretKey());
    const variable = (id: string, name: string): StoredCredential => ({
      ...credential(id, 'vlt_envvars000001', ''),
      auth: {
        type: 'environment_variable',
        secret_name: name,
        networking: { type: 'limited', allowed_hosts: ['api.example.com'] },
        injection_location: { header: true, body: false },
      },
    });
    try {
      await store.vaults.insert(vault('vlt_envvars000001'));
      expect(await store.credentials.insert(variable('vcrd_envvar000001', 'API_KEY'))).toBe('inserted');
      expect(await store.credentials.insert(variable('vcrd_envvar000002', 'API_KEY'))).toBe('mcp_server_taken');
      expect(await store.credentials.insert(variable('vcrd_envvar000003', 'OTHER'))).toBe('inserted');
      // A bearer credential for a URL never collides with a variable name.
      expect(
        await store.credentials.insert(credential('vcrd_bearer000001', 'vlt_envvars000001', 'https://x.test/mcp')),
      ).toBe('inserted');
      expect((await store.credentials.get('vlt_envvars000001', 'vcrd_envvar000001'))?.auth).toEqual(
        variable('vcrd_envvar000001', 'API_KEY').auth,
      );
      const updated = await store.credentials.update('vlt_envvars000001', 'vcrd_envvar000001', (current) => ({
        ...current,
        auth: {
          ...variable(current.id, 'API_KEY').auth,
          networking: { type: 'unrestricted' },
        } as StoredCredential['auth'],
      }));
      expect(updated?.auth).toMatchObject({ networking: { type: 'unrestricted' } });

      const rows = await views.credentialRows.findEnvironmentVariables(['vlt_envvars000001'], DEFAULT_WORKSPACE_ID);
      expect(rows.map((row) => row.secret_name).sort()).toEqual(['API_KEY', 'OTHER']);
      expect(rows.find((row) => row.id === 'vcrd_envvar000001')).toMatchObject({
        vault_id: 'vlt_envvars000001',
        access_token: 'sealed-vcrd_envvar000001',
      });
      expect(JSON.parse(rows.find((row) => row.id === 'vcrd_envvar000001')!.settings)).toEqual({
        networking: { type: 'unrestricted' },
        injection_location: { header: true, body: false },
      });
      expect(await views.credentialRows.findEnvironmentVariables(['vlt_envvars000001'], 'wrkspc_other')).toEqual([]);
      expect(
        (await views.credentialRows.findEnvironmentVariablesById(['vcrd_envvar000003', 'vcrd_bearer000001'])).map(
          (row) => row.id,
        ),
      ).toEqual(['vcrd_envvar000003']);
      await store.credentials.update('vlt_envvars000001', 'vcrd_envvar000003', (current) => ({
        ...current,
        archivedAt: current.updatedAt,
        secrets: null,
      }));
      expect(await views.credentialRows.findEnvironmentVariablesById(['vcrd_envvar000003'])).toEqual([]);
    } finally {
      await views.close();
    }
  });

  it('work items: concurrent requests queue one item per session, concurrent polls deliver each item once', async () => {
    const store = await fresh();
    const views = subject.workerViews(generateSecretKey());
    try {
      const requests = await Promise.all(
        Array.from({ length: 8 }, () =>
          views.workQueue.requestWork({ environmentId: 'env_selfhosted01', sessionId: 'sesn_one' }),
        ),
      );
      expect(new Set(requests.map((request) => request.workId)).size).toBe(1);
      expect(requests.filter((request) => request.queued)).toHaveLength(1);
      for (const session of ['sesn_two', 'sesn_three']) {
        await views.workQueue.requestWork({ environmentId: 'env_selfhosted01', sessionId: session });
      }
      expect(await store.work.stats('env_selfhosted01')).toEqual({
        depth: 3,
        pending: 0,
        oldestQueuedAt: expect.any(String),
      });

      const at = new Date().toISOString();
      const delivered = await Promise.all(
        Array.from({ length: 5 }, (_, index) => store.work.deliverNext('env_selfhosted01', `worker-${index}`, at, at)),
      );
      const items = delivered.filter((item) => item !== null);
      expect(items).toHaveLength(3);
      expect(new Set(items.map((item) => item.id)).size).toBe(3);
      expect(await store.work.stats('env_selfhosted01')).toMatchObject({ depth: 0, pending: 3 });

      const first = items[0];
      if (first === undefined) throw new Error('no item delivered');
      const changed = await store.work.change('env_selfhosted01', first.id, (current) => ({
        item: { ...current, state: 'stopped', stoppedAt: at, metadata: { reason: 'test' } },
        outcome: 'stopped',
      }));
      expect(changed).toMatchObject({ item: { state: 'stopped', metadata: { reason: 'test' } }, outcome: 'stopped' });
      expect(await store.work.find('env_selfhosted01', first.id)).toMatchObject({ state: 'stopped', stoppedAt: at });
      expect(await store.work.change('env_other0000001', first.id, () => ({ item: null, outcome: 0 }))).toBeNull();
      const again = await views.workQueue.requestWork({
        environmentId: 'env_selfhosted01',
        sessionId: first.sessionId,
      });
      expect(again.queued).toBe(true);

      const page = await store.work.list('env_selfhosted01', { limit: 2, cursor: null });
      const rest = await store.work.list('env_selfhosted01', { limit: 2, cursor: page.nextCursor });
      expect([...page.items, ...rest.items]).toHaveLength(4);
      expect(rest.nextCursor).toBeNull();
    } finally {
      await views.close();
    }
  });
  it('memory stores: writes checked in one transaction (paths, preconditions, archive), versions kept, worker sync', async () => {
    const store = await fresh();
    const at = new Date().toISOString();
    const record: StoredMemoryStore = {
      id: 'memstore_repo00001',
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
      name: 'Repo store',
      description: '',
      metadata: { k: 'v' },
    };
    await store.memoryStores.insertStore(record);
    expect(await store.memoryStores.getStore(record.id)).toEqual(record);
    const later = { ...record, id: 'memstore_repo00002', createdAt: '2099-01-01T00:00:00.000Z', archivedAt: at };
    await store.memoryStores.insertStore(later);
    const listStores = (overrides: Partial<Parameters<typeof store.memoryStores.listStores>[0]>) =>
      store.memoryStores.listStores({
        limit: 1,
        cursor: null,
        workspaceId: DEFAULT_WORKSPACE_ID,
        includeArchived: true,
        createdAtOrAfter: null,
        createdAtOrBefore: null,
        ...overrides,
      });
    const firstPage = await listStores({});
    expect(firstPage.items.map((item) => item.id)).toEqual([later.id]);
    expect((await listStores({ cursor: firstPage.nextCursor })).items.map((item) => item.id)).toEqual([record.id]);
    expect((await listStores({ includeArchived: false, limit: 10 })).items.map((item) => item.id)).toEqual([record.id]);
    expect((await listStores({ createdAtOrAfter: '2098-01-01T00:00:00.000Z' })).items).toEqual([later]);
    expect((await listStores({ workspaceId: 'wrkspc_other', limit: 10 })).items).toEqual([]);
    expect(await store.memoryStores.deleteStore(later.id)).toBe(true);
    const actor = { type: 'api_actor' as const, api_key_id: 'apikey_repo' };
    const context = (versionId: string) => ({ versionId, at: new Date().toISOString(), actor });
    const write = store.memoryStores.writeMemory.bind(store.memoryStores);
    const created = await write(
      record.id,
      { op: 'create', memoryId: 'mem_a', path: '/a/b.md', content: 'one' },
      context('memver_1'),
    );
    expect(created).toMatchObject({ kind: 'done', memory: { path: '/a/b.md', memoryVersionId: 'memver_1' } });
    // Two concurrent creates of overlapping paths: exactly one lands.
    const racing = await Promise.all([
      write(record.id, { op: 'create', memoryId: 'mem_b', path: '/c', content: '' }, context('memver_2')),
      write(record.id, { op: 'create', memoryId: 'mem_c', path: '/c/d', content: '' }, context('memver_3')),
    ]);
    expect(racing.map((outcome) => outcome.kind).sort()).toEqual(['done', 'path_conflict']);
    expect(
      await write(record.id, { op: 'create', memoryId: 'mem_d', path: '/a', content: '' }, context('memver_4')),
    ).toEqual({
      kind: 'path_conflict',
      memoryId: 'mem_a',
      path: '/a/b.md',
    });
    expect(
      await write(
        record.id,
        { op: 'update', memoryId: 'mem_a', content: 'two', expectedContentSha256: 'f'.repeat(64) },
        context('memver_5'),
      ),
    ).toEqual({ kind: 'precondition_failed' });
    const renamed = await write(record.id, { op: 'update', memoryId: 'mem_a', path: '/a/e.md' }, context('memver_6'));
    expect(await store.memoryStores.getMemory(record.id, 'mem_a')).toMatchObject({ path: '/a/e.md', content: 'one' });
    expect(await store.memoryStores.getMemory('memstore_other01', 'mem_a')).toBeNull();
    expect(renamed).toMatchObject({
      kind: 'done',
      memory: { path: '/a/e.md', content: 'one' },
      version: { operation: 'modified' },
    });
    expect((await store.memoryStores.listMemories(record.id, '/a/')).map((memory) => memory.path)).toEqual(['/a/e.md']);
    expect(await write('memstore_nobody01', { op: 'delete', memoryId: 'mem_a' }, context('memver_7'))).toEqual({
      kind: 'store_not_found',
    });

    // The worker mounts the store and writes back what the sandbox holds, as the session.
    const views = subject.workerViews(generateSecretKey());
    try {
      await store.memoryStores.attachToSession(
        'sesn_repo0001',
        [{ memoryStoreId: record.id, mountPath: '/mnt/memory/repo-store', access: 'read_write' }],
        at,
      );
      expect(await views.memoryRows.mountsOf('sesn_repo0001')).toEqual([
        { memoryStoreId: record.id, mountPath: '/mnt/memory/repo-store', access: 'read_write' },
      ]);
      expect(await store.memoryStores.sessionsOf(record.id, 10)).toEqual(['sesn_repo0001']);
      const before = await views.memoryRows.memoriesOf(record.id);
      expect(before.map((memory) => memory.path).sort()).toEqual([
        '/a/e.md',
        racing[0]?.kind === 'done' ? '/c' : '/c/d',
      ]);
      const synced = await views.memoryRows.syncFromSandbox(record.id, 'sesn_repo0001', [
        { path: '/a/e.md', content: 'changed' },
        { path: '/new.md', content: 'new' },
      ]);
      expect(synced).toEqual({ kind: 'synced', created: 1, modified: 1, deleted: 1 });
      const bySession = await store.memoryStores.listVersions(record.id, {
        limit: 10,
        cursor: null,
        memoryId: null,
        operation: null,
        sessionId: 'sesn_repo0001',
        apiKeyId: null,
        createdAtOrAfter: null,
        createdAtOrBefore: null,
      });
      expect(bySession.items.map((version) => [version.operation, version.createdBy])).toEqual(
        expect.arrayContaining([
          ['created', { type: 'session_actor', session_id: 'sesn_repo0001' }],
          ['modified', { type: 'session_actor', session_id: 'sesn_repo0001' }],
          ['deleted', { type: 'session_actor', session_id: 'sesn_repo0001' }],
        ]),
      );
      expect(bySession.items).toHaveLength(3);
      const page = await store.memoryStores.listVersions(record.id, {
        ...{
          limit: 2,
          cursor: null,
          memoryId: 'mem_a',
          operation: null,
          sessionId: null,
          apiKeyId: null,
          createdAtOrAfter: null,
          createdAtOrBefore: null,
        },
      });
      expect(page.items.map((version) => version.content)).toEqual(['changed', 'one']);
      const rest = await store.memoryStores.listVersions(record.id, {
        limit: 2,
        cursor: page.nextCursor,
        memoryId: 'mem_a',
        operation: null,
        sessionId: null,
        apiKeyId: null,
        createdAtOrAfter: null,
        createdAtOrBefore: null,
      });
      expect(rest.items.map((version) => version.operation)).toEqual(['created']);
      const redacted = await store.memoryStores.redactVersion(record.id, 'memver_1', at, actor);
      expect(redacted).toMatchObject({
        kind: 'redacted',
        version: { path: null, content: null, redactedBy: actor, createdBy: actor },
      });

      // Archived: no create or update, from the API or the sandbox; a delete still works.
      await store.memoryStores.updateStore(record.id, (current) => ({ ...current, archivedAt: at }));
      expect(
        await write(record.id, { op: 'create', memoryId: 'mem_x', path: '/x', content: '' }, context('memver_8')),
      ).toEqual({ kind: 'store_archived' });
      expect(await views.memoryRows.syncFromSandbox(record.id, 'sesn_repo0001', [])).toEqual({
        kind: 'store_archived',
      });
      expect(await write(record.id, { op: 'delete', memoryId: 'mem_a' }, context('memver_9'))).toMatchObject({
        kind: 'done',
        memory: null,
      });

      expect(await store.memoryStores.deleteStore(record.id)).toBe(true);
      expect(await store.memoryStores.getVersion(record.id, 'memver_1')).toBeNull();
      expect(await views.memoryRows.memoriesOf(record.id)).toEqual([]);
      expect(await store.memoryStores.sessionsOf(record.id, 10)).toEqual([]);
    } finally {
      await views.close();
    }
  });

  it('skills: versions stack up with the latest tracked, the only version stays, sessions keep their mounts', async () => {
    const store = await fresh();
    const at = '2026-01-01T00:00:00.000Z';
    const file = { path: 'SKILL.md', sha256: 'a'.repeat(64), sizeBytes: 12 };
    const version = (id: string, skillId: string, createdAt = at): StoredSkillVersion => ({
      id,
      skillId,
      createdAt,
      name: 'repo-skill',
      description: 'A skill.',
      files: [file],
    });
    const skill: StoredSkill = {
      id: 'skill_repo00001',
      workspaceId: DEFAULT_WORKSPACE_ID,
      createdAt: at,
      updatedAt: at,
      displayName: 'Repo skill',
      name: 'repo-skill',
      latestVersionId: 'skillver_repo00001',
    };
    await store.skills.insertSkill(skill, version('skillver_repo00001', skill.id));
    const other = { ...skill, id: 'skill_repo00002', latestVersionId: 'skillver_repo00009' };
    await store.skills.insertSkill(other, version('skillver_repo00009', other.id));
    expect(await store.skills.getSkill(skill.id)).toEqual(skill);
    const page = await store.skills.listSkills({ limit: 1, cursor: null, workspaceId: DEFAULT_WORKSPACE_ID });
    expect(page.items).toEqual([other]);
    const next = await store.skills.listSkills({
      limit: 1,
      cursor: page.nextCursor,
      workspaceId: DEFAULT_WORKSPACE_ID,
    });
    expect(next).toEqual({ items: [skill], nextCursor: null });
    expect((await store.skills.listSkills({ limit: 5, cursor: null, workspaceId: 'wrkspc_other' })).items).toEqual([]);

    const later = '2026-01-02T00:00:00.000Z';
    const second = version('skillver_repo00002', skill.id, later);
    expect(await store.skills.insertVersion(second)).toEqual({
      ...skill,
      latestVersionId: second.id,
      updatedAt: later,
    });
    expect(await store.skills.insertVersion(version('skillver_repo00003', 'skill_unknown0'))).toBeNull();
    expect(await store.skills.getVersion(skill.id, second.id)).toEqual(second);
    expect(await store.skills.getVersion(other.id, second.id)).toBeNull();
    const versions = await store.skills.listVersions(skill.id, { limit: 1, cursor: null });
    expect(versions.items.map((item) => item.id)).toEqual([second.id]);
    const rest = await store.skills.listVersions(skill.id, { limit: 1, cursor: versions.nextCursor });
    expect(rest).toEqual({ items: [version('skillver_repo00001', skill.id)], nextCursor: null });

    expect(await store.skills.deleteVersion(other.id, second.id, later)).toBe('not_found');
    expect(await store.skills.deleteVersion(skill.id, second.id, later)).toBe('deleted');
    expect((await store.skills.getSkill(skill.id))?.latestVersionId).toBe('skillver_repo00001');
    expect(await store.skills.deleteVersion(skill.id, 'skillver_repo00001', later)).toBe('only_version');

    const mount: SandboxSkillMount = {
      skillId: skill.id,
      versionId: 'skillver_repo00001',
      name: 'repo-skill',
      description: 'A skill.',
      files: [file],
    };
    await store.skills.attachToSession('sesn_repo0001', [mount], at);
    expect(await store.skills.deleteSkill(skill.id)).toBe(true);
    expect(await store.skills.deleteSkill(skill.id)).toBe(false);
    expect(await store.skills.getSkill(skill.id)).toBeNull();
    expect(await store.skills.getVersion(skill.id, 'skillver_repo00001')).toBeNull();
    // The session keeps what it mounts, for the server's system prompt and for the worker.
    expect(await store.skills.sessionSkills('sesn_repo0001')).toEqual([mount]);
    const views = subject.workerViews(generateSecretKey());
    try {
      expect(await views.skillRows.mountsOf('sesn_repo0001')).toEqual([mount]);
      expect(await views.skillRows.mountsOf('sesn_other')).toEqual([]);
    } finally {
      await views.close();
    }
  });
});
