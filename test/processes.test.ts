import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, resolveTemporalCliPath, startTemporalDevServer } from '../cli/temporal-dev-server';
import type { TemporalDevServer } from '../cli/temporal-dev-server';
import { PROJECT_ROOT, readConfig } from '../common/config';
import { removeThrowawaySandboxes } from './support/throwaway-sandboxes';
import { ScriptedModelServer } from './scripted-model-server';
import { allSessionEvents, sdkClient, untilIdleAfter } from './support/sdk';
import { spawnReady } from './support/spawn-ready';
import { seedWorkflowBundle } from './support/workflow-bundle';

const KEEL = path.join(PROJECT_ROOT, 'bin', 'keel.cjs');
const API_KEY = 'keel-processes-key';

let temporal: TemporalDevServer;
let model: ScriptedModelServer;
let dataDir: string;
let environment: Record<string, string>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const config = readConfig();
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-processes-'));
  await seedWorkflowBundle(dataDir);
  temporal = await startTemporalDevServer({
    cliPath: resolveTemporalCliPath(PROJECT_ROOT, config.temporal.cliPath, config.temporal.searchPath),
    port: await findFreePort(),
    uiPort: await findFreePort(),
    dbFilename: path.join(dataDir, 'temporal.sqlite'),
    namespace: config.temporal.namespace,
  });
  model = await ScriptedModelServer.start();
  environment = {
    KEEL_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporal.address,
    KEEL_PORT: String(await findFreePort()),
    KEEL_API_KEY: API_KEY,
    KEEL_MODEL_BASE_URL: model.baseUrl,
    KEEL_MODEL_API_KEY: 'scripted-model-key',
    KEEL_WORKER_METRICS_PORT: String(await findFreePort()),
  };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await model?.close();
  if (temporal !== undefined) await removeThrowawaySandboxes(readConfig().temporal.namespace, temporal.address);
  await temporal?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('keel server and keel worker as their own processes', () => {
  it('serve a session together on one Temporal cluster, and each stops cleanly on SIGTERM', async () => {
    const worker = await spawnReady([KEEL, 'worker'], {
      cwd: PROJECT_ROOT,
      env: environment,
      readyText: 'keel worker: polling',
    });
    children.push(worker.child);
    const server = await spawnReady([KEEL, 'server'], {
      cwd: PROJECT_ROOT,
      env: environment,
      readyText: 'Keel server is ready',
    });
    children.push(server.child);
    const apiUrl = `http://127.0.0.1:${environment['KEEL_PORT']}`;
    expect(server.output()).toContain(`Temporal ${temporal.address}`);

    // The server's health asks Temporal and the worker, not Docker (the workers own it).
    const health = await fetch(`${apiUrl}/health`);
    expect(health.status).toBe(200);

    const client = sdkClient(apiUrl, API_KEY);
    const agent = await client.beta.agents.create({ name: 'split', model: 'scripted-model', tools: [] });
    const environmentId = (await client.beta.environments.create({ name: 'split', config: { type: 'cloud' } })).id;
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
    model.enqueue({ kind: 'text', text: 'answered by the worker process' });
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    });
    await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    expect(JSON.stringify(await allSessionEvents(client, session.id))).toContain('answered by the worker process');
    // The worker process serves its own metrics: the model call it ran is counted there.
    const metrics = await (await fetch(`http://127.0.0.1:${environment['KEEL_WORKER_METRICS_PORT']}/metrics`)).text();
    expect(metrics).toContain(
      'keel_activity_duration_seconds_count{activity="callModel",tool="",outcome="completed"} 1',
    );
    // With the Temporal runtime's own worker metrics after Keel's, and this worker's (no) sandboxes.
    expect(metrics).toMatch(/^temporal_activity_execution_latency_count\{/m);
    expect(metrics).toContain('keel_sandboxes{state="running"} 0');

    server.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
    expect(await exited(worker.child)).toBe(0);
    expect(worker.output()).toContain('keel worker: stopped');
  });

  it('keel server without TEMPORAL_ADDRESS refuses to start, naming it', async () => {
    const child = spawn(process.execPath, [KEEL, 'server'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...environment, TEMPORAL_ADDRESS: '' },
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    expect(await exited(child)).toBe(1);
    expect(output).toContain('TEMPORAL_ADDRESS');
  });
});
