import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { toFile } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mcpServerUrlKey } from '../common/mcp-server-url-key';
import { DEFAULT_WORKSPACE_ID, workspaceOfMemo } from '../common/workspace';
import { applyMigrations, MIGRATIONS } from '../server/store/migrations';
import { openSqliteStore } from '../server/store/open-sqlite-store';
import { SqliteCredentialRows, credentialStoreFile } from '../activities/credentials/sqlite-credential-resolver';
import { startMcpTestServer, stopMcpTestServer } from './support/mcp-test-server';
import { sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const ROOT = path.resolve(__dirname, '..');
const KEEL = path.join(ROOT, 'bin', 'keel.cjs');
const MCP_URL = 'https://mcp.workspaces.example/mcp';

let harness: TestStack;
/** Keys made with `keel keys create --workspace …`: A's, B's, and A's self-hosted environment's. */
const keys = { a: '', b: '', aEnvironment: '' };
/** A's resources, by the route parameter that names them. */
const ids: Record<string, string> = {};
let a: Anthropic;
let b: Anthropic;

/** Runs the real `keel` command against the test stack's data folder and store. */
function keel(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEEL, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...harness.workerEnvironment },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Creates a key with `keel keys create` and returns it (the command prints `<id> <key>`). */
async function createKey(args: string[]): Promise<string> {
  const created = await keel(['keys', 'create', ...args]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  const key = created.stdout.trim().split(' ')[1];
  expect(key).toMatch(/^keel_/);
  return key ?? '';
}

beforeAll(async () => {
  harness = await startTestStack();
  keys.a = await createKey(['alpha-key', '--workspace', 'alpha']);
  keys.b = await createKey(['beta-key', '--workspace', 'beta']);
  a = sdkClient(harness.stack.apiUrl, keys.a);
  b = sdkClient(harness.stack.apiUrl, keys.b);

  // Every kind of resource, in workspace A.
  const agent = await a.beta.agents.create({ name: 'alpha agent', model: 'scripted-model' });
  const environment = await a.beta.environments.create({ name: 'alpha env', config: { type: 'cloud' } });
  const selfHosted = await a.beta.environments.create({ name: 'alpha machines', config: { type: 'self_hosted' } });
  const vault = await a.beta.vaults.create({ display_name: 'alpha vault' });
  const credential = await a.beta.vaults.credentials.create(vault.id, {
    auth: { type: 'static_bearer', token: 'alpha-secret-token', mcp_server_url: MCP_URL },
  });
  const file = await a.beta.files.upload({ file: await toFile(Buffer.from('alpha file'), 'alpha.txt') });
  const second = await a.beta.files.upload({ file: await toFile(Buffer.from('alpha file 2'), 'alpha-2.txt') });
  const session = await a.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    vault_ids: [vault.id],
    resources: [{ type: 'file', file_id: file.id }],
  });
  const memoryStore = await a.beta.memoryStores.create({ name: 'alpha memory' });
  const memory = await a.beta.memoryStores.memories.create(memoryStore.id, { path: '/alpha.md', content: 'alpha' });
  const skill = await a.beta.skills.create({
    files: [await toFile(Buffer.from('---\nname: alpha-skill\ndescription: Alpha.\n---\n'), 'alpha-skill/SKILL.md')],
  });
  // A deployment whose agent is archived after: its runs record an agent_archived_error and call no model.
  const deployedAgent = await a.beta.agents.create({ name: 'alpha deployed agent', model: 'scripted-model' });
  const deployment = await a.beta.deployments.create({
    name: 'alpha deployment',
    agent: deployedAgent.id,
    environment_id: environment.id,
    initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'alpha' }] }],
  });
  await a.beta.agents.archive(deployedAgent.id);
  const deploymentRun = await a.beta.deployments.run(deployment.id);
  // A dream whose model call never answers: it stays running until the owner cancels it (phase 2), then archives it.
  harness.model.enqueue({ kind: 'hang' });
  const dream = await a.beta.dreams.create({
    inputs: [{ type: 'memory_store', memory_store_id: memoryStore.id }],
    model: 'scripted-model',
  });
  await vi.waitFor(
    () => {
      if (!harness.model.requests.some((request) => JSON.stringify(request.body.system ?? '').includes('dreaming'))) {
        throw new Error('the dream has not called the model yet');
      }
    },
    { timeout: 30_000, interval: 100 },
  );
  Object.assign(ids, {
    skillId: skill.id,
    version: skill.latest_version_id,
    deploymentId: deployment.id,
    deploymentRunId: deploymentRun.id,
    dreamId: dream.id,
    memoryStoreId: memoryStore.id,
    memoryId: memory.id,
    memoryVersionId: memory.memory_version_id,
    agentId: agent.id,
    environmentId: environment.id,
    selfHostedEnvironmentId: selfHosted.id,
    vaultId: vault.id,
    credentialId: credential.id,
    fileId: file.id,
    secondFileId: second.id,
    sessionId: session.id,
    // The session's primary thread, its only one: `sthr_` + the session id's suffix.
    threadId: `sthr_${session.id.slice('sesn_'.length)}`,
    resourceId: (session.resources[0] as { id?: string } | undefined)?.id ?? '',
    workId: 'work_000000000000000000000000',
  });
  keys.aEnvironment = await createKey(['alpha-machines', '--environment', selfHosted.id]);
}, 240_000);

afterAll(async () => {
  await harness?.stop();
});

/** How one route is exercised: the order the owner's calls run in, and what the owner gets. */
interface RouteCase {
  /** 1 reads, 2 writes, 3 archives, 4 deletes: the owner's calls run in this order, B's all before. */
  phase: 1 | 2 | 3 | 4;
  /** The status A's key gets (404 only where the route itself has no such child, as for a made-up work item). */
  owner: number;
  body?: unknown;
  query?: string;
  /** The key the owner calls with: A's API key, or A's self-hosted environment's key. */
  ownerKey?: 'environment';
  /** For a self-hosted environment's work routes: `:environmentId` is A's self-hosted environment. */
  selfHosted?: true;
}

const WORK = '/v1/environments/:environmentId/work';
const CREDENTIALS = '/v1/vaults/:vaultId/credentials';
const RESOURCES = '/v1/sessions/:sessionId/resources';
const THREADS = '/v1/sessions/:sessionId/threads';
const MEMORIES = '/v1/memory_stores/:memoryStoreId/memories';
const MEMORY_VERSIONS = '/v1/memory_stores/:memoryStoreId/memory_versions';

/**
 * Every route that names a resource, with how A's key uses it. The test fails when the server serves a route this
 * table does not know, so a new route cannot be forgotten here.
 */
const ROUTES: Record<string, RouteCase> = {
  'GET /v1/agents/:agentId': { phase: 1, owner: 200 },
  'GET /v1/agents/:agentId/versions': { phase: 1, owner: 200 },
  'POST /v1/agents/:agentId': { phase: 2, owner: 200, body: { name: 'alpha agent, renamed' } },
  'POST /v1/agents/:agentId/archive': { phase: 3, owner: 200 },
  'GET /v1/environments/:environmentId': { phase: 1, owner: 200 },
  'POST /v1/environments/:environmentId': { phase: 2, owner: 200, body: { name: 'alpha env, renamed' } },
  'POST /v1/environments/:environmentId/archive': { phase: 3, owner: 200 },
  'DELETE /v1/environments/:environmentId': { phase: 4, owner: 200 },
  [`GET ${WORK}/poll`]: { phase: 1, owner: 204, query: 'block_ms=1', selfHosted: true },
  [`GET ${WORK}/stats`]: { phase: 1, owner: 200, selfHosted: true },
  [`GET ${WORK}`]: { phase: 1, owner: 200, selfHosted: true, ownerKey: 'environment' },
  [`GET ${WORK}/:workId`]: { phase: 1, owner: 404, selfHosted: true },
  [`POST ${WORK}/:workId`]: { phase: 2, owner: 404, selfHosted: true, body: { metadata: { a: 'b' } } },
  [`POST ${WORK}/:workId/ack`]: { phase: 2, owner: 404, selfHosted: true },
  [`POST ${WORK}/:workId/heartbeat`]: { phase: 2, owner: 404, selfHosted: true },
  [`POST ${WORK}/:workId/stop`]: { phase: 2, owner: 404, selfHosted: true, body: {} },
  'GET /v1/files/:fileId': { phase: 1, owner: 200 },
  'GET /v1/files/:fileId/content': { phase: 1, owner: 200 },
  'DELETE /v1/files/:fileId': { phase: 4, owner: 200 },
  [`GET ${CREDENTIALS}`]: { phase: 1, owner: 200 },
  [`GET ${CREDENTIALS}/:credentialId`]: { phase: 1, owner: 200 },
  [`POST ${CREDENTIALS}`]: {
    phase: 2,
    owner: 200,
    body: { auth: { type: 'static_bearer', token: 'alpha-token-2', mcp_server_url: 'https://other.example/mcp' } },
  },
  [`POST ${CREDENTIALS}/:credentialId`]: { phase: 2, owner: 200, body: { display_name: 'renamed' } },
  // A's credential is a static_bearer one: validating it is refused with 400 (B gets the 404 of every route).
  [`POST ${CREDENTIALS}/:credentialId/mcp_oauth_validate`]: { phase: 1, owner: 400 },
  [`POST ${CREDENTIALS}/:credentialId/archive`]: { phase: 2, owner: 200 },
  [`DELETE ${CREDENTIALS}/:credentialId`]: { phase: 4, owner: 200 },
  'GET /v1/vaults/:vaultId': { phase: 1, owner: 200 },
  'POST /v1/vaults/:vaultId': { phase: 2, owner: 200, body: { display_name: 'alpha vault, renamed' } },
  'POST /v1/vaults/:vaultId/archive': { phase: 3, owner: 200 },
  'DELETE /v1/vaults/:vaultId': { phase: 4, owner: 200 },
  'GET /v1/sessions/:sessionId': { phase: 1, owner: 200 },
  'GET /v1/sessions/:sessionId/events': { phase: 1, owner: 200 },
  'GET /v1/sessions/:sessionId/events/stream': { phase: 1, owner: 200 },
  'POST /v1/sessions/:sessionId': { phase: 2, owner: 200, body: { title: 'alpha session, renamed' } },
  'POST /v1/sessions/:sessionId/events': {
    phase: 2,
    owner: 200,
    body: { events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }] },
  },
  'POST /v1/sessions/:sessionId/archive': { phase: 3, owner: 200 },
  'DELETE /v1/sessions/:sessionId': { phase: 4, owner: 200 },
  [`GET ${RESOURCES}`]: { phase: 1, owner: 200 },
  [`GET ${RESOURCES}/:resourceId`]: { phase: 1, owner: 200 },
  [`POST ${RESOURCES}`]: { phase: 2, owner: 200, body: { type: 'file', file_id: ':secondFileId' } },
  [`POST ${RESOURCES}/:resourceId`]: { phase: 2, owner: 400, body: { authorization_token: 'not-for-a-file' } },
  [`DELETE ${RESOURCES}/:resourceId`]: { phase: 2, owner: 200 },
  [`GET ${THREADS}`]: { phase: 1, owner: 200 },
  [`GET ${THREADS}/:threadId`]: { phase: 1, owner: 200 },
  [`GET ${THREADS}/:threadId/events`]: { phase: 1, owner: 200 },
  [`GET ${THREADS}/:threadId/stream`]: { phase: 1, owner: 200 },
  // The primary thread cannot be archived (only idle child threads can).
  [`POST ${THREADS}/:threadId/archive`]: { phase: 2, owner: 400 },
  'GET /v1/memory_stores/:memoryStoreId': { phase: 1, owner: 200 },
  'POST /v1/memory_stores/:memoryStoreId': { phase: 2, owner: 200, body: { name: 'alpha memory, renamed' } },
  'POST /v1/memory_stores/:memoryStoreId/archive': { phase: 3, owner: 200 },
  'DELETE /v1/memory_stores/:memoryStoreId': { phase: 4, owner: 200 },
  [`GET ${MEMORIES}`]: { phase: 1, owner: 200 },
  [`GET ${MEMORIES}/:memoryId`]: { phase: 1, owner: 200 },
  [`POST ${MEMORIES}`]: { phase: 2, owner: 200, body: { path: '/alpha-2.md', content: 'two' } },
  [`POST ${MEMORIES}/:memoryId`]: { phase: 2, owner: 200, body: { content: 'alpha, changed' } },
  // Deleting a memory is allowed in an archived store, so it may run before or after the archive.
  [`DELETE ${MEMORIES}/:memoryId`]: { phase: 3, owner: 200 },
  [`GET ${MEMORY_VERSIONS}`]: { phase: 1, owner: 200 },
  [`GET ${MEMORY_VERSIONS}/:memoryVersionId`]: { phase: 1, owner: 200 },
  [`POST ${MEMORY_VERSIONS}/:memoryVersionId/redact`]: { phase: 2, owner: 200 },
  'GET /v1/skills/:skillId': { phase: 1, owner: 200 },
  'DELETE /v1/skills/:skillId': { phase: 4, owner: 200 },
  'GET /v1/skills/:skillId/versions': { phase: 1, owner: 200 },
  // A JSON body: an upload is multipart, so the owner gets a 400 naming the files.
  'POST /v1/skills/:skillId/versions': { phase: 2, owner: 400 },
  'GET /v1/skills/:skillId/versions/:version': { phase: 1, owner: 200 },
  'GET /v1/skills/:skillId/versions/:version/content': { phase: 1, owner: 200 },
  // The skill's only version: the owner is told to delete the skill instead.
  'DELETE /v1/skills/:skillId/versions/:version': { phase: 2, owner: 400 },
  'GET /v1/deployments/:deploymentId': { phase: 1, owner: 200 },
  'POST /v1/deployments/:deploymentId': { phase: 2, owner: 200, body: { name: 'alpha deployment, renamed' } },
  'POST /v1/deployments/:deploymentId/pause': { phase: 2, owner: 200 },
  'POST /v1/deployments/:deploymentId/unpause': { phase: 2, owner: 200 },
  'POST /v1/deployments/:deploymentId/run': { phase: 2, owner: 200 },
  'POST /v1/deployments/:deploymentId/archive': { phase: 3, owner: 200 },
  'GET /v1/deployment_runs/:deploymentRunId': { phase: 1, owner: 200 },
  'GET /v1/dreams/:dreamId': { phase: 1, owner: 200 },
  'POST /v1/dreams/:dreamId/cancel': { phase: 2, owner: 200 },
  'POST /v1/dreams/:dreamId/archive': { phase: 3, owner: 200 },
};

/** Routes that name no resource: B's key uses them with its own data (listings and creations are tested apart). */
const UNNAMED_ROUTES = new Set([
  'GET /health',
  'GET /metrics',
  'GET /openapi.json',
  'GET /v1/agents',
  'POST /v1/agents',
  'GET /v1/environments',
  'POST /v1/environments',
  'GET /v1/files',
  'POST /v1/files',
  'GET /v1/vaults',
  'POST /v1/vaults',
  'GET /v1/sessions',
  'POST /v1/sessions',
  'GET /v1/memory_stores',
  'POST /v1/memory_stores',
  'GET /v1/skills',
  'POST /v1/skills',
  'GET /v1/deployments',
  'POST /v1/deployments',
  'GET /v1/deployment_runs',
  'GET /v1/dreams',
  'POST /v1/dreams',
]);

const WORKSPACES = '/v1/organizations/workspaces';
const API_KEYS = '/v1/organizations/api_keys';

/**
 * The Admin API's routes, which are not workspace-scoped: only an admin key may call them, every other key gets 403.
 * Each with a body that would be valid, so the 403 is the key's, not the body's.
 */
const ADMIN_ROUTES: Record<string, { path: string; body?: unknown }> = {
  [`GET ${WORKSPACES}`]: { path: WORKSPACES },
  [`POST ${WORKSPACES}`]: { path: WORKSPACES, body: { name: 'intruders' } },
  [`GET ${WORKSPACES}/:workspaceId`]: { path: `${WORKSPACES}/${DEFAULT_WORKSPACE_ID}` },
  [`POST ${WORKSPACES}/:workspaceId`]: { path: `${WORKSPACES}/${DEFAULT_WORKSPACE_ID}`, body: { name: 'default' } },
  [`POST ${WORKSPACES}/:workspaceId/archive`]: { path: `${WORKSPACES}/wrkspc_nobody/archive` },
  [`GET ${API_KEYS}`]: { path: API_KEYS },
  [`POST ${API_KEYS}`]: { path: API_KEYS, body: { name: 'intruder', admin: true } },
  [`GET ${API_KEYS}/:apiKeyId`]: { path: `${API_KEYS}/apikey_nobody` },
  [`POST ${API_KEYS}/:apiKeyId`]: { path: `${API_KEYS}/apikey_nobody`, body: { status: 'active' } },
};

/** The routes the server serves, read from Fastify's route table (`printRoutes`), as `METHOD /path`, HEAD left out. */
function servedRoutes(): string[] {
  const routes: string[] = [];
  const parents: string[] = [];
  for (const line of harness.stack.server.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?[─ ])(\/\S*)(?: \(([^)]*)\))?$/.exec(line);
    if (match === null) continue;
    const depth = Math.round((match[1] ?? '').length / 4) - 1;
    const url = (parents[depth - 1] ?? '') + (match[2] ?? '');
    parents[depth] = url;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((name) => name.trim())) {
      if (method !== '' && method !== 'HEAD' && !url.startsWith('/console')) routes.push(`${method} ${url}`);
    }
  }
  return routes;
}

/** The concrete path of a route with A's resources in its parameters. */
function pathOf(route: string, routeCase: RouteCase): string {
  const url = route.split(' ')[1] ?? '';
  const filled = url.replace(/:([A-Za-z]+)/g, (_, name: string) =>
    name === 'environmentId' && routeCase.selfHosted === true
      ? (ids['selfHostedEnvironmentId'] ?? '')
      : (ids[name] ?? ''),
  );
  return routeCase.query === undefined ? filled : `${filled}?${routeCase.query}`;
}

/** Calls a route with a key; an event stream's body is left unread (the stream is closed once its status is known). */
async function call(
  route: string,
  routeCase: RouteCase,
  key: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const method = route.split(' ')[0] ?? 'GET';
  const abort = new AbortController();
  const response = await fetch(`${harness.stack.apiUrl}${pathOf(route, routeCase)}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body).replaceAll(':secondFileId', ids['secondFileId'] ?? '') }),
    signal: abort.signal,
  });
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    abort.abort();
    return { status: response.status, body: null };
  }
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: response.status, body: json ? (JSON.parse(text) as unknown) : text };
}

describe('workspaces migration: what existed before belongs to the default workspace', () => {
  it('a store at migration 6 keeps its agents and keys, now in the default workspace, which exists', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'keel-workspaces-'));
    try {
      const filename = path.join(folder, 'keel.sqlite');
      const database = new Database(filename);
      applyMigrations(database, MIGRATIONS.slice(0, 6));
      const at = new Date().toISOString();
      database
        .prepare('INSERT INTO agents (id, latest_version, created_at, updated_at) VALUES (?, 1, ?, ?)')
        .run('agent_old', at, at);
      database
        .prepare('INSERT INTO agent_versions (agent_id, version, created_at, definition) VALUES (?, 1, ?, ?)')
        .run('agent_old', at, JSON.stringify({ name: 'old' }));
      database
        .prepare('INSERT INTO api_keys (id, key_sha256, name, created_at) VALUES (?, ?, ?, ?)')
        .run('apikey_old', 'f'.repeat(64), 'old key', at);
      database.close();
      const store = openSqliteStore({ filename });
      try {
        expect(store.appliedMigrations).toEqual(MIGRATIONS.slice(6).map((migration) => migration.version));
        expect((await store.agents.get('agent_old'))?.workspaceId).toBe(DEFAULT_WORKSPACE_ID);
        expect((await store.apiKeys.list()).map((key) => key.workspaceId)).toEqual([DEFAULT_WORKSPACE_ID]);
        expect((await store.workspaces.list()).map((workspace) => workspace.name)).toEqual(['default']);
        expect(workspaceOfMemo({ metadata: {} })).toBe(DEFAULT_WORKSPACE_ID);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('workspaces: a key sees its own workspace only, on every route', () => {
  it('route table: every route the server serves is in the table (named resources) or known to name none', () => {
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(40);
    const unknown = served.filter(
      (route) => ROUTES[route] === undefined && !UNNAMED_ROUTES.has(route) && ADMIN_ROUTES[route] === undefined,
    );
    expect(unknown).toEqual([]);
    expect(Object.keys(ROUTES).filter((route) => !served.includes(route))).toEqual([]);
    expect(Object.keys(ADMIN_ROUTES).filter((route) => !served.includes(route))).toEqual([]);
  });

  it("another workspace's key: every route naming A's resource answers 404 in the Anthropic error shape", async () => {
    const answers: Record<string, unknown> = {};
    for (const [route, routeCase] of Object.entries(ROUTES)) {
      for (const key of [keys.b, TEST_API_KEY]) {
        const answer = await call(route, routeCase, key, route.startsWith('GET ') ? undefined : (routeCase.body ?? {}));
        answers[`${route} (${key === keys.b ? 'B' : 'default'})`] =
          answer.status === 404 &&
          typeof answer.body === 'object' &&
          answer.body !== null &&
          (answer.body as { type?: unknown }).type === 'error' &&
          (answer.body as { error?: { type?: unknown } }).error?.type === 'not_found_error'
            ? 'not found'
            : answer;
      }
    }
    expect(
      Object.values(answers).every((answer) => answer === 'not found'),
      JSON.stringify(answers, null, 1),
    ).toBe(true);
  });

  it("another workspace's key: listings leave A's resources out, and A's ids are unknown in new sessions", async () => {
    const listed = JSON.stringify([
      (await b.beta.agents.list({ include_archived: true })).data,
      (await b.beta.environments.list({ include_archived: true })).data,
      (await b.beta.vaults.list({ include_archived: true })).data,
      (await b.beta.files.list()).data,
      (await b.beta.memoryStores.list({ include_archived: true })).data,
      (await b.beta.skills.list()).data,
      (await b.beta.deployments.list({ include_archived: true })).data,
      (await b.beta.deploymentRuns.list()).data,
      (await b.beta.dreams.list({ include_archived: true })).data,
      (await b.beta.sessions.list({ include_archived: true })).data,
      (await sdkClient(harness.stack.apiUrl).beta.sessions.list({ include_archived: true })).data,
    ]);
    for (const name of [
      'agentId',
      'environmentId',
      'selfHostedEnvironmentId',
      'vaultId',
      'fileId',
      'sessionId',
      'memoryStoreId',
      'skillId',
      'dreamId',
      'deploymentId',
      'deploymentRunId',
    ]) {
      expect(listed).not.toContain(ids[name]);
    }

    const agent = await b.beta.agents.create({ name: 'beta agent', model: 'scripted-model' });
    const notFound = async (body: Record<string, unknown>, path = '/v1/sessions'): Promise<object> => {
      const response = await fetch(`${harness.stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': keys.b, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as object };
    };
    const error = (message: string): object => ({
      status: 404,
      body: { type: 'error', error: { type: 'not_found_error', message: expect.stringContaining(message) as string } },
    });
    expect(await notFound({ agent: ids['agentId'] })).toMatchObject(error(ids['agentId'] ?? ''));
    expect(await notFound({ agent: agent.id, environment_id: ids['environmentId'] })).toMatchObject(
      error(ids['environmentId'] ?? ''),
    );
    expect(await notFound({ agent: agent.id, vault_ids: [ids['vaultId']] })).toMatchObject(error(ids['vaultId'] ?? ''));
    expect(await notFound({ agent: agent.id, resources: [{ type: 'file', file_id: ids['fileId'] }] })).toMatchObject(
      error(ids['fileId'] ?? ''),
    );
    const environment = await b.beta.environments.create({ name: 'beta env', config: { type: 'cloud' } });
    const own = await b.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(await notFound({ type: 'file', file_id: ids['fileId'] }, `/v1/sessions/${own.id}/resources`)).toMatchObject(
      error(ids['fileId'] ?? ''),
    );
    // B's own session is B's alone: A does not see it either.
    expect((await a.beta.sessions.list()).data.map((session) => session.id)).not.toContain(own.id);
    expect((await b.beta.sessions.list()).data.map((session) => session.id)).toEqual([own.id]);
  });

  it("the worker's credential reader: A's vault yields its credential in A's workspace only", async () => {
    const rows = new SqliteCredentialRows(credentialStoreFile(harness.config.dataDir));
    try {
      const serverKey = mcpServerUrlKey(MCP_URL);
      const workspaceA = (await harness.stack.store.workspaces.findByName('alpha'))?.id ?? '';
      expect(await rows.findActive(ids['vaultId'] ?? '', serverKey, workspaceA)).toMatchObject({
        id: ids['credentialId'],
      });
      expect(await rows.findActive(ids['vaultId'] ?? '', serverKey, DEFAULT_WORKSPACE_ID)).toBeNull();
    } finally {
      rows.close();
    }
  });

  it("the worker: a session of workspace A calls an MCP server with the credential of A's vault", async () => {
    const token = 'alpha-mcp-token-7f3c';
    const mcp = await startMcpTestServer({ token });
    try {
      const vault = await a.beta.vaults.create({ display_name: 'alpha mcp vault' });
      await a.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', token, mcp_server_url: mcp.url },
      });
      const agent = await a.beta.agents.create({
        name: 'alpha mcp agent',
        model: 'scripted-model',
        mcp_servers: [{ type: 'url', name: 'orders', url: mcp.url }],
        tools: [
          {
            type: 'mcp_toolset',
            mcp_server_name: 'orders',
            default_config: { permission_policy: { type: 'always_allow' } },
          },
        ],
      });
      const environment = await a.beta.environments.create({
        name: 'alpha mcp env',
        config: { type: 'cloud', networking: { type: 'limited', allow_mcp_servers: true } },
      });
      const session = await a.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        vault_ids: [vault.id],
      });
      harness.model.enqueue(
        { kind: 'tool_use', name: 'mcp__orders__lookup_order', input: { orderId: 'A-1' } },
        { kind: 'text', text: 'done' },
      );
      const sent = await a.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: 'look up A-1' }] }],
      });
      const events = await untilIdleAfter(a, session.id, sent.data?.[0]?.id);
      expect(events.find((event) => event.type === 'agent.mcp_tool_result')).toMatchObject({ is_error: false });
      expect(mcp.toolCalls.map((toolCall) => toolCall.authorization)).toEqual([`Bearer ${token}`]);
    } finally {
      await stopMcpTestServer(mcp);
    }
  });

  it("the owner's key: every route works on A's resources", async () => {
    harness.model.enqueue({ kind: 'text', text: 'hello from alpha' });
    const answers: Record<string, unknown> = {};
    const ordered = Object.entries(ROUTES).sort(([, left], [, right]) => left.phase - right.phase);
    for (const [route, routeCase] of ordered) {
      const key = routeCase.ownerKey === 'environment' ? keys.aEnvironment : keys.a;
      const answer = await call(route, routeCase, key, routeCase.body);
      // A made-up work item is the route's own 404, past the workspace checks.
      const own = routeCase.owner !== 404 || JSON.stringify(answer.body).includes('has no work item');
      answers[route] = answer.status === routeCase.owner && own ? 'as expected' : answer;
    }
    expect(
      Object.values(answers).every((answer) => answer === 'as expected'),
      JSON.stringify(answers, null, 1),
    ).toBe(true);
  });

  it('keel keys list: shows the workspace of every key', async () => {
    const listed = await keel(['keys', 'list']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines.find((line) => line.endsWith('alpha-key'))).toContain('workspace alpha');
    expect(lines.find((line) => line.endsWith('beta-key'))).toContain('workspace beta');
    expect(lines.find((line) => line.includes('alpha-machines'))).toContain('workspace alpha');
    // The same name twice is the same workspace.
    const again = await createKey(['alpha-key-2', '--workspace', 'alpha']);
    const agents = (await sdkClient(harness.stack.apiUrl, again).beta.agents.list({ include_archived: true })).data;
    expect(agents.map((agent) => agent.id)).toContain(ids['agentId']);
  });
});

/** Calls the HTTP API with a key and a JSON body (or none). */
async function request(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${harness.stack.apiUrl}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the Admin API: an admin key manages workspaces and keys over HTTP', () => {
  it('a key that is not an admin key gets 403 permission_error on every admin route, and changes nothing', async () => {
    const before = await request('GET', `${API_KEYS}?limit=1000`, TEST_API_KEY);
    const answers: Record<string, unknown> = {};
    for (const [route, adminCase] of Object.entries(ADMIN_ROUTES)) {
      const method = route.split(' ')[0] ?? 'GET';
      for (const [name, key] of Object.entries(keys)) {
        const answer = await request(method, adminCase.path, key, adminCase.body);
        const error = answer.body['error'] as { type?: unknown } | undefined;
        answers[`${route} (${name})`] =
          answer.status === 403 && answer.body['type'] === 'error' && error?.type === 'permission_error'
            ? 'forbidden'
            : answer;
      }
    }
    expect(
      Object.values(answers).every((answer) => answer === 'forbidden'),
      JSON.stringify(answers, null, 1),
    ).toBe(true);
    expect(await request('GET', `${API_KEYS}?limit=1000`, TEST_API_KEY)).toEqual(before);
    expect((await harness.stack.store.workspaces.findByName('intruders')) === null).toBe(true);
  });

  it('the configured key creates a workspace and a key in it; that key works and sees only its workspace', async () => {
    const admin = sdkClient(harness.stack.apiUrl);
    const workspace = await admin.beta.organization.workspaces.create({ name: 'gamma' });
    expect(workspace).toMatchObject({ type: 'workspace', name: 'gamma', archived_at: null });
    expect(workspace.id).toMatch(/^wrkspc_/);
    expect(await admin.beta.organization.workspaces.retrieve(workspace.id)).toEqual(workspace);

    const created = await request('POST', API_KEYS, TEST_API_KEY, { name: 'gamma-key', workspace_id: workspace.id });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      type: 'api_key',
      name: 'gamma-key',
      status: 'active',
      admin: false,
      workspace_id: workspace.id,
      scope: { type: 'workspace', workspace_id: workspace.id },
    });
    const secret = String(created.body['key']);
    expect(secret).toMatch(/^keel_/);
    const keyId = String(created.body['id']);
    // The secret is shown once: never again in a retrieval or a listing.
    const retrieved = await admin.beta.organization.apiKeys.retrieve(keyId);
    const { key: _secret, ...view } = created.body;
    expect(retrieved).toEqual(view);
    expect(JSON.stringify(await request('GET', `${API_KEYS}?limit=1000`, TEST_API_KEY))).not.toContain(secret);

    const gamma = sdkClient(harness.stack.apiUrl, secret);
    const agent = await gamma.beta.agents.create({ name: 'gamma agent', model: 'scripted-model' });
    expect((await gamma.beta.agents.list({ include_archived: true })).data.map((item) => item.id)).toEqual([agent.id]);
    expect((await a.beta.agents.list({ include_archived: true })).data.map((item) => item.id)).not.toContain(agent.id);
    expect((await request('GET', `/v1/agents/${ids['agentId'] ?? ''}`, secret)).status).toBe(404);
    // An ordinary key of the new workspace is not an admin key.
    expect((await request('GET', WORKSPACES, secret)).status).toBe(403);

    // Listings, one item a page, through the SDK's paging (after_id).
    const names: string[] = [];
    for await (const item of admin.beta.organization.workspaces.list({ limit: 1 })) names.push(item.name);
    expect(names).toEqual(['default', 'alpha', 'beta', 'gamma']);
    const listedKeys = await admin.beta.organization.apiKeys.list({ workspace_id: workspace.id });
    expect(listedKeys.data.map((item) => item.id)).toEqual([keyId]);
    const back = await request('GET', `${WORKSPACES}?limit=2&before_id=${workspace.id}`, TEST_API_KEY);
    expect(back.body).toMatchObject({
      has_more: true,
      last_id: (await admin.beta.organization.workspaces.list()).data[2]?.id,
    });

    // Renames: a workspace (not to a taken name), a key.
    expect(await admin.beta.organization.workspaces.update(workspace.id, { name: 'gamma team' })).toMatchObject({
      name: 'gamma team',
    });
    expect((await request('POST', `${WORKSPACES}/${workspace.id}`, TEST_API_KEY, { name: 'alpha' })).status).toBe(409);
    // Two renames to one name at once: one wins, the other gets 409 (the name is unique), never a 500.
    const beta = (await admin.beta.organization.workspaces.list()).data.find((item) => item.name === 'beta');
    const racing = await Promise.all(
      [beta?.id ?? '', workspace.id].map((id) =>
        request('POST', `${WORKSPACES}/${id}`, TEST_API_KEY, { name: 'delta' }),
      ),
    );
    expect(racing.map((response) => response.status).sort()).toEqual([200, 409]);
    await request('POST', `${WORKSPACES}/${beta?.id ?? ''}`, TEST_API_KEY, { name: 'beta' });
    await request('POST', `${WORKSPACES}/${workspace.id}`, TEST_API_KEY, { name: 'gamma team' });
    expect(await admin.beta.organization.apiKeys.update(keyId, { name: 'gamma key, renamed' })).toMatchObject({
      name: 'gamma key, renamed',
      status: 'active',
    });

    // inactive: 401, and back; archived: 401 for good.
    const agentsStatus = async (): Promise<number> => (await request('GET', '/v1/agents', secret)).status;
    await admin.beta.organization.apiKeys.update(keyId, { status: 'inactive' });
    expect(await agentsStatus()).toBe(401);
    await admin.beta.organization.apiKeys.update(keyId, { status: 'active' });
    expect(await agentsStatus()).toBe(200);
    expect(await admin.beta.organization.apiKeys.update(keyId, { status: 'archived' })).toMatchObject({
      status: 'archived',
    });
    expect(await agentsStatus()).toBe(401);
    const reactivate = await request('POST', `${API_KEYS}/${keyId}`, TEST_API_KEY, { status: 'active' });
    expect(reactivate.status).toBe(400);
    expect(await agentsStatus()).toBe(401);
    expect((await admin.beta.organization.apiKeys.list({ status: 'archived' })).data.map((item) => item.id)).toContain(
      keyId,
    );

    // Archiving a workspace archives its keys; it leaves the listing unless archived ones are asked for.
    const second = await request('POST', API_KEYS, TEST_API_KEY, { name: 'gamma-2', workspace_id: workspace.id });
    expect((await request('GET', '/v1/agents', String(second.body['key']))).status).toBe(200);
    const archived = await admin.beta.organization.workspaces.archive(workspace.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await request('GET', '/v1/agents', String(second.body['key']))).status).toBe(401);
    expect(await admin.beta.organization.apiKeys.retrieve(String(second.body['id']))).toMatchObject({
      status: 'archived',
    });
    expect((await admin.beta.organization.workspaces.list()).data.map((item) => item.id)).not.toContain(workspace.id);
    expect(
      (await admin.beta.organization.workspaces.list({ include_archived: true })).data.map((item) => item.id),
    ).toContain(workspace.id);
    expect((await request('POST', API_KEYS, TEST_API_KEY, { name: 'late', workspace_id: workspace.id })).status).toBe(
      400,
    );
    expect((await request('POST', `${WORKSPACES}/${DEFAULT_WORKSPACE_ID}/archive`, TEST_API_KEY)).status).toBe(400);
    expect((await request('GET', `${WORKSPACES}/wrkspc_nobody`, TEST_API_KEY)).body).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
  });

  it('more admin keys: over HTTP (admin: true) and with keel keys create --admin; both manage, in their workspace', async () => {
    const alpha = await harness.stack.store.workspaces.findByName('alpha');
    const created = await request('POST', API_KEYS, TEST_API_KEY, {
      name: 'alpha-admin',
      workspace_id: alpha?.id,
      admin: true,
    });
    expect(created.body).toMatchObject({ admin: true, workspace_id: alpha?.id });
    const alphaAdmin = String(created.body['key']);
    expect((await request('GET', WORKSPACES, alphaAdmin)).status).toBe(200);
    // Its other routes act in its own workspace: A's agent, not the default workspace's.
    expect((await request('GET', `/v1/agents/${ids['agentId'] ?? ''}`, alphaAdmin)).status).toBe(200);

    const made = await keel(['keys', 'create', 'boss', '--admin']);
    expect(made.code).toBe(0);
    const [bossId, boss] = made.stdout.trim().split(' ');
    const delta = await request('POST', WORKSPACES, boss ?? '', { name: 'delta' });
    expect(delta.status).toBe(200);
    const listed = await keel(['keys', 'list']);
    expect(listed.stdout.split('\n').find((line) => line.startsWith(bossId ?? '-'))).toMatch(
      /active .*boss {2}\(admin\)$/,
    );
    expect((await keel(['keys', 'create', 'x', '--admin', '--environment', 'env_1'])).code).not.toBe(0);
  });
});
