import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneStore, StoredDeployment, StoredDeploymentRun } from '../server/store/control-plane-store';
import { openPostgresStore } from '../server/store/open-postgres-store';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';

let postgres: PrivatePostgres;
const folders: string[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);

afterAll(async () => {
  await postgres?.stop();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

const at = (second: number): string => new Date(Date.UTC(2026, 3, 1, 0, 0, second)).toISOString();

function deployment(id: string, second: number): StoredDeployment {
  return {
    id,
    workspaceId: 'wrkspc_default',
    createdAt: at(second),
    updatedAt: at(second),
    archivedAt: null,
    definition: {
      name: id,
      description: null,
      agent: { type: 'agent', id: 'agent_0000000000000000', version: 1 },
      environment_id: 'env_0000000000000000',
      resources: [],
      vault_ids: [],
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }],
      metadata: { team: 'ops' },
      schedule: { type: 'cron', expression: '0 9 * * 1-5', timezone: 'UTC' },
      paused_reason: null,
      last_run_at: null,
      budget: null,
    },
  };
}

function run(id: string, deploymentId: string, second: number, failed: boolean): StoredDeploymentRun {
  return {
    id,
    workspaceId: 'wrkspc_default',
    createdAt: at(second),
    updatedAt: at(second),
    archivedAt: null,
    deploymentId,
    agent: { type: 'agent', id: 'agent_0000000000000000', version: 1 },
    sessionId: failed ? null : `sesn_${id}`,
    error: failed ? { type: 'agent_archived_error', message: 'archived' } : null,
    triggerContext: failed ? { type: 'schedule', scheduled_at: at(second) } : { type: 'manual' },
  };
}

const stores: Array<[string, () => Promise<ControlPlaneStore>]> = [
  [
    'SQLite',
    () => {
      const folder = mkdtempSync(path.join(tmpdir(), 'keel-deployments-'));
      folders.push(folder);
      return Promise.resolve(openSqliteStore({ filename: storeFilePath(folder) }));
    },
  ],
  ['PostgreSQL', async () => openPostgresStore({ url: await postgres.createDatabase() })],
];

describe.each(stores)('deployments and deployment runs on %s (migration 11)', (_name, open) => {
  it('stores, reads, pages, updates and archives deployments, and keeps runs as written', async () => {
    const store = await open();
    try {
      await store.deployments.insert(deployment('depl_one', 1));
      await store.deployments.insert(deployment('depl_two', 2));
      expect(await store.deployments.get('depl_one')).toEqual(deployment('depl_one', 1));
      const first = await store.deployments.list({ limit: 1, cursor: null, includeArchived: false });
      expect(first.items.map((item) => item.id)).toEqual(['depl_two']);
      const second = await store.deployments.list({ limit: 1, cursor: first.nextCursor, includeArchived: false });
      expect(second.items.map((item) => item.id)).toEqual(['depl_one']);
      const paused = await store.deployments.update('depl_one', (current) => ({
        ...current,
        archivedAt: at(3),
        definition: { ...current.definition, paused_reason: { type: 'manual' } },
      }));
      expect(paused?.definition.paused_reason).toEqual({ type: 'manual' });
      expect((await store.deployments.list({ limit: 10, cursor: null, includeArchived: false })).items).toHaveLength(1);

      await store.deploymentRuns.insert(run('drun_a', 'depl_one', 4, false));
      await store.deploymentRuns.insert(run('drun_b', 'depl_one', 5, true));
      expect(await store.deploymentRuns.get('drun_a')).toEqual(run('drun_a', 'depl_one', 4, false));
      expect(await store.deploymentRuns.get('drun_b')).toEqual(run('drun_b', 'depl_one', 5, true));
      const runs = await store.deploymentRuns.list({ limit: 10, cursor: null, includeArchived: true });
      expect(runs.items.map((item) => item.id)).toEqual(['drun_b', 'drun_a']);
    } finally {
      await store.close();
    }
  });
});
