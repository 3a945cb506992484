import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinition, StoredAgent, StoredEnvironment } from '../server/store/control-plane-store';
import { MIGRATIONS, StoreSchemaError } from '../server/store/migrations';
import type { Migration } from '../server/store/migrations';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import type { SqliteStore } from '../server/store/open-sqlite-store';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';

let dataDir: string;
let filename: string;
const opened: SqliteStore[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-store-'));
  filename = storeFilePath(dataDir);
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function open(migrations?: readonly Migration[]): SqliteStore {
  const store = openSqliteStore({ filename, ...(migrations ? { migrations } : {}) });
  opened.push(store);
  return store;
}

function definition(name: string): AgentDefinition {
  return {
    name,
    description: null,
    model: { id: 'scripted-model' },
    system: 'Be brief.',
    tools: [],
    mcp_servers: [],
    skills: [],
    metadata: { team: 'store' },
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

function migrationRows(): Array<{ version: number; name: string }> {
  const database = new Database(filename, { readonly: true });
  try {
    return database.prepare<[], { version: number; name: string }>('SELECT version, name FROM schema_migrations').all();
  } finally {
    database.close();
  }
}

describe('control-plane store on SQLite', () => {
  it('openSqliteStore: a new file gets every migration once, a reopen applies none and the data survives', async () => {
    const first = open();
    expect(path.basename(filename)).toBe('keel.sqlite');
    expect(first.appliedMigrations).toEqual(MIGRATIONS.map((migration) => migration.version));
    await first.agents.insert(agent('agent_survivor0001'));
    await first.environments.insert(environment('env_survivor00001'));
    await first.close();

    const second = open();
    expect(second.appliedMigrations).toEqual([]);
    const third = open();
    expect(third.appliedMigrations).toEqual([]);
    expect(migrationRows()).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    expect(await second.agents.get('agent_survivor0001')).toEqual(agent('agent_survivor0001', expect.any(String)));
    expect((await second.environments.get('env_survivor00001'))?.definition.config).toMatchObject({
      packages: { apt: ['jq'] },
    });
  });

  it('migrations: a later migration adds its table on reopen without re-running the first', async () => {
    const first = open();
    await first.agents.insert(agent('agent_beforefiles01'));
    await first.close();

    const files: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'files metadata',
      sql: 'CREATE TABLE files (id TEXT PRIMARY KEY, filename TEXT NOT NULL)',
    };
    const later = open([...MIGRATIONS, files]);
    expect(later.appliedMigrations).toEqual([files.version]);
    expect(migrationRows().map((row) => row.version)).toEqual([...MIGRATIONS, files].map((row) => row.version));
    expect(await later.agents.get('agent_beforefiles01')).not.toBeNull();
    await later.close();

    expect(() => open()).toThrow(StoreSchemaError);
    expect(() => open([...MIGRATIONS, { ...files, name: 'something else' }])).toThrow(/files metadata/);
  });

  it('appendVersion: versions stack up, and a change that throws writes nothing', async () => {
    const store = open();
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
    const unchanged = await store.agents.appendVersion('agent_versioned0001', () => null, new Date().toISOString());
    expect(unchanged?.version).toBe(2);
    expect((await store.agents.get('agent_versioned0001', 1))?.definition.system).toBe('Be brief.');
    expect(await store.agents.get('agent_versioned0001', 3)).toBeNull();
    expect(await store.agents.appendVersion('agent_nosuchagent01', () => null, new Date().toISOString())).toBeNull();
    const versions = await store.agents.listVersions('agent_versioned0001', { limit: 1, cursor: null });
    expect(versions?.items.map((item) => item.version)).toEqual([2]);
    const older = await store.agents.listVersions('agent_versioned0001', {
      limit: 1,
      cursor: versions?.nextCursor ?? null,
    });
    expect(older).toMatchObject({ items: [{ version: 1 }], nextCursor: null });
  });

  it('list: pages newest first, leaves archived agents out unless asked, and filters by creation time', async () => {
    const store = open();
    const times = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'];
    for (const [index, time] of times.entries()) await store.agents.insert(agent(`agent_listed00000${index}`, time));
    await store.agents.archive('agent_listed000001', new Date().toISOString());

    const request = { includeArchived: true, createdAtOrAfter: null, createdAtOrBefore: null };
    const first = await store.agents.list({ ...request, limit: 2, cursor: null });
    expect(first.items.map((item) => item.id)).toEqual(['agent_listed000002', 'agent_listed000001']);
    const second = await store.agents.list({ ...request, limit: 2, cursor: first.nextCursor });
    expect(second).toMatchObject({ items: [{ id: 'agent_listed000000' }], nextCursor: null });

    const active = await store.agents.list({ ...request, includeArchived: false, limit: 10, cursor: null });
    expect(active.items.map((item) => item.id)).toEqual(['agent_listed000002', 'agent_listed000000']);
    const february = await store.agents.list({
      ...request,
      createdAtOrAfter: times[1] ?? null,
      createdAtOrBefore: times[1] ?? null,
      limit: 10,
      cursor: null,
    });
    expect(february.items.map((item) => item.id)).toEqual(['agent_listed000001']);
  });

  it('two stores open on one file (as two processes would) see each other’s writes', async () => {
    const writer = open();
    const reader = open();
    await writer.environments.insert(environment('env_sharedfile0001'));
    expect((await reader.environments.get('env_sharedfile0001'))?.id).toBe('env_sharedfile0001');
    await reader.environments.update('env_sharedfile0001', (current) => ({
      ...current,
      archivedAt: current.updatedAt,
    }));
    expect((await writer.environments.get('env_sharedfile0001'))?.archivedAt).not.toBeNull();
    expect(await writer.environments.delete('env_sharedfile0001')).toBe(true);
    expect(await reader.environments.delete('env_sharedfile0001')).toBe(false);
  });
});
