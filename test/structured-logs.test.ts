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
import { sdkClient, untilIdleAfter } from './support/sdk';
import { spawnReady } from './support/spawn-ready';
import type { ReadyProcess } from './support/spawn-ready';
import { seedWorkflowBundle } from './support/workflow-bundle';

const KEEL = path.join(PROJECT_ROOT, 'bin', 'keel.cjs');
const API_KEY = 'keel-structured-logs-key';

let temporal: TemporalDevServer;
let model: ScriptedModelServer;
let dataDir: string;
let environment: Record<string, string>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const config = readConfig();
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-structured-logs-'));
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
    KEEL_LOG_FORMAT: 'json',
    // Debug, so the SDK's line for each finished Activity is written.
    KEEL_LOG_LEVEL: 'debug',
  };
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await model?.close();
  if (temporal !== undefined) await removeThrowawaySandboxes(readConfig().temporal.namespace, temporal.address);
  await temporal?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The lines of `process`'s output that are JSON objects. */
function jsonLines(process: ReadyProcess): Array<Record<string, unknown>> {
  return process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('structured logs (KEEL_LOG_FORMAT=json)', () => {
  it('keel server logs each request with its request id and session id, keel worker each Activity with the session id', async () => {
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

    const client = sdkClient(apiUrl, API_KEY);
    const agent = await client.beta.agents.create({
      name: 'logs',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    });
    const environmentId = (await client.beta.environments.create({ name: 'logs', config: { type: 'cloud' } })).id;
    const { data: session, response: created } = await client.beta.sessions
      .create({ agent: agent.id, environment_id: environmentId })
      .withResponse();
    model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo logged' } },
      { kind: 'text', text: 'logged it' },
    );
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'log this' }] }],
    });
    await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    const refused = await fetch(`${apiUrl}/v1/sessions/${session.id}`);
    expect(refused.status).toBe(401);

    server.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
    expect(await exited(worker.child)).toBe(0);

    // The server: one line per request, the id the client got in `request-id`, and the session it made or named.
    const requests = jsonLines(server).filter((line) => line['msg'] === 'request completed');
    const creation = requests.find((line) => line['request_id'] === created.headers.get('request-id'));
    expect(creation).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/v1/sessions',
      status: 200,
      session_id: session.id,
    });
    expect(typeof creation?.['time']).toBe('string');
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/v1/sessions/:sessionId/events', method: 'POST', session_id: session.id }),
    );
    // Refused before any handler ran: the request id still, and the session the path names.
    expect(requests).toContainEqual(
      expect.objectContaining({
        request_id: refused.headers.get('request-id'),
        status: 401,
        session_id: session.id,
      }),
    );
    for (const line of requests) expect(line['request_id']).toMatch(/^req_[0-9a-f]{24}$/);

    // The worker: the Temporal SDK's lines as JSON, each Activity's with the session id.
    const activities = jsonLines(worker).filter((line) => line['msg'] === 'Activity completed');
    for (const activityType of ['callModel', 'execute']) {
      expect(activities).toContainEqual(
        expect.objectContaining({ level: 'debug', activityType, session_id: session.id, workflowId: session.id }),
      );
    }
  });
});
