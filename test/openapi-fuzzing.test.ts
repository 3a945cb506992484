import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toFile } from '@anthropic-ai/sdk';
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sdkClient } from './support/sdk';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** The Schemathesis that `scripts/setup.sh --tests` installs (scripts/setup/schemathesis.sh). */
const SCHEMATHESIS = path.resolve(__dirname, '../.keel/tools/schemathesis/bin/schemathesis');

/** A well-formed session id that no session has. */
const MISSING_SESSION_ID = 'sesn_0000000000000000000000';

/** An id that names no object of any kind. */
const MISSING_ID = 'missing_0000000000000000';

/** Fixed, so a failure found once is found again: Schemathesis prints the seed and how to replay each case. */
const SEED = 20261204;

/** The ids of the objects the fuzzer's path parameters point at, so invalid bodies reach real objects. */
interface SeededIds {
  agentId: string;
  environmentId: string;
  vaultId: string;
  credentialId: string;
  sessionId: string;
  /** The seeded session's primary thread, its only thread. */
  threadId: string;
  fileId: string;
  resourceId: string;
  workId: string;
  memoryStoreId: string;
  skillId: string;
  version: string;
  memoryId: string;
  memoryVersionId: string;
}

/** What a Schemathesis run found, read from its JUnit report. */
interface FuzzingResult {
  operations: number;
  failures: number;
  errors: number;
  /** The failed operations with Schemathesis' own account (the request to reproduce it), for the test's message. */
  report: string;
  /** How many requests it sent. */
  requests: number;
  /** The requests that may have changed something (not GET) and were accepted (2xx), from its HAR record. */
  accepted: { method: string; url: string; requestBody: string; status: number; body: string }[];
}

/** The parts of a HAR record the test reads. */
interface Har {
  log: {
    entries: {
      request: { method: string; url: string; postData?: { text?: string } };
      response: { status: number; content: { text?: string } };
    }[];
  };
}

let harness: TestStack;
let client: Anthropic;
let seeded: SeededIds;
let workFolder: string;

beforeAll(async () => {
  if (!existsSync(SCHEMATHESIS)) {
    throw new Error(`Schemathesis not found at ${SCHEMATHESIS}: run bash scripts/setup.sh --tests`);
  }
  // Any valid message the fuzzer sends to the seeded session gets an answer, so the session's turns end.
  harness = await startTestStack({ model: { respond: () => ({ kind: 'text', text: 'ok' }) } });
  client = sdkClient(harness.stack.apiUrl);
  seeded = await seedObjects(client);
  workFolder = mkdtempSync(path.join(tmpdir(), 'keel-fuzz-'));
}, 120_000);

afterAll(async () => {
  await harness?.stop();
  if (workFolder !== undefined) rmSync(workFolder, { recursive: true, force: true });
}, 60_000);

describe('HTTP API fuzzing with Schemathesis against /openapi.json', () => {
  test('GET /openapi.json: describes every served route from the request schemas, without an API key', async () => {
    const response = await fetch(`${harness.stack.apiUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.ApiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/agents', '/v1/sessions/{sessionId}/events', '/v1/files', '/v1/vaults/{vaultId}']),
    );
    const createAgent = document.paths['/v1/agents']?.post;
    const body = createAgent?.requestBody?.content['application/json']?.schema;
    expect(body?.required).toEqual(['model', 'name']);
    expect(body?.additionalProperties).toBe(false);
    expect(createAgent?.responses['4XX']).toBeDefined();
    const listSessions = document.paths['/v1/sessions']?.get;
    expect(listSessions?.parameters.map((parameter) => parameter.name)).toContain('agent_id');
  });

  test('refusals the fuzzing found: over-long ids, a null body and unserved routes get the Anthropic error shape', async () => {
    const headers = { 'x-api-key': TEST_API_KEY, 'content-type': 'application/json' };
    const longId = await fetch(`${harness.stack.apiUrl}/v1/agents/${'a'.repeat(300)}`, { headers });
    expect(longId.status).toBe(414);
    expect(await longId.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const sessionsBefore = (await client.beta.sessions.list({ limit: 100 })).data.length;
    const nullBody = await fetch(`${harness.stack.apiUrl}/v1/sessions`, { method: 'POST', headers, body: 'null' });
    expect(nullBody.status).toBe(400);
    expect(await nullBody.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'body: expected a JSON object, got null' },
    });
    expect((await client.beta.sessions.list({ limit: 100 })).data.length).toBe(sessionsBefore);
    const unserved = await fetch(`${harness.stack.apiUrl}/v1/agents`, { method: 'PUT', headers, body: '{}' });
    expect(unserved.status).toBe(404);
    expect(await unserved.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  test('negative fuzzing: every invalid request is refused in the Anthropic error shape and changes nothing', async () => {
    const before = await listings(client, seeded);
    const started = Date.now();
    const result = await runSchemathesis('negative', [
      '--mode',
      'negative',
      '--phases',
      'coverage,fuzzing',
      '--max-examples',
      '8',
      // negative_data_rejection: a 2xx for a request that is invalid by the document fails the run.
      '--checks',
      'not_a_server_error,response_schema_conformance,content_type_conformance,negative_data_rejection',
    ]);
    console.log(
      `negative fuzzing: ${result.operations} operations, ${result.requests} requests in ` +
        `${Math.round((Date.now() - started) / 1000)} s; accepted changes: ` +
        (result.accepted
          .map(
            (request) =>
              `${request.method} ${new URL(request.url).pathname} ${JSON.stringify(request.requestBody)} → ${request.status}`,
          )
          .join(', ') || 'none'),
    );
    expect(result.report).toBe('');
    expect(result).toMatchObject({ failures: 0, errors: 0 });
    expect(result.operations).toBeGreaterThanOrEqual(50);
    // Some requests of the pass are valid after all: here, body-less POSTs to routes whose body fields are all
    // optional (so no body reads as `{}`). What they touched is set aside; everything else must be as it was.
    expect(result.accepted.filter((request) => request.requestBody !== '')).toEqual([]);
    const touched = touchedIds(result.accepted);
    expect(withoutTouched(await listings(client, seeded), touched)).toEqual(withoutTouched(before, touched));
  }, 300_000);

  test('positive fuzzing: no valid request gets a server error, and every refusal has the Anthropic shape', async () => {
    const started = Date.now();
    const result = await runSchemathesis('positive', [
      '--mode',
      'positive',
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      '8',
      '--checks',
      'not_a_server_error,response_schema_conformance,content_type_conformance',
    ]);
    console.log(`positive fuzzing: ${result.operations} operations in ${Math.round((Date.now() - started) / 1000)} s`);
    expect(result.report).toBe('');
    expect(result).toMatchObject({ failures: 0, errors: 0 });
    expect(result.operations).toBeGreaterThanOrEqual(50);
  }, 300_000);
});

/** Creates one object of each kind, so the fuzzer's requests reach real objects as well as missing ones. */
async function seedObjects(sdk: Anthropic): Promise<SeededIds> {
  const agent = await sdk.beta.agents.create({ name: 'fuzzed', model: 'scripted-model', tools: [] });
  const environment = await sdk.beta.environments.create({ name: 'fuzzed', config: { type: 'cloud' } });
  const vault = await sdk.beta.vaults.create({ display_name: 'fuzzed' });
  const credential = await sdk.beta.vaults.credentials.create(vault.id, {
    auth: { type: 'static_bearer', token: 'fuzzed-token', mcp_server_url: 'https://mcp.example.com/mcp' },
  });
  const file = await sdk.beta.files.upload({ file: await toFile(Buffer.from('fuzzed'), 'fuzzed.txt') });
  const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const resource = await sdk.beta.sessions.resources.add(session.id, {
    type: 'file',
    file_id: file.id,
    mount_path: '/mnt/fuzzed',
  });
  const memoryStore = await sdk.beta.memoryStores.create({ name: 'fuzzed' });
  const memory = await sdk.beta.memoryStores.memories.create(memoryStore.id, { path: '/fuzzed.md', content: 'fuzzed' });
  const skill = await sdk.beta.skills.create({
    files: [await toFile(Buffer.from('---\nname: fuzzed\ndescription: Fuzzed.\n---\n'), 'fuzzed/SKILL.md')],
  });
  return {
    skillId: skill.id,
    version: skill.latest_version_id,
    memoryStoreId: memoryStore.id,
    memoryId: memory.id,
    memoryVersionId: memory.memory_version_id,
    agentId: agent.id,
    environmentId: environment.id,
    vaultId: vault.id,
    credentialId: credential.id,
    sessionId: session.id,
    threadId: `sthr_${session.id.slice('sesn_'.length)}`,
    fileId: file.id,
    resourceId: resource.id,
    // The seeded environment is a cloud one: it has no work queue items, so work routes answer for a missing item.
    workId: 'work_fuzzed',
  };
}

/** Every id an accepted request named in its path or got back in its answer. */
function touchedIds(accepted: FuzzingResult['accepted']): Set<string> {
  const ids = new Set<string>();
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, field] of Object.entries(value)) {
        if (key === 'id' && typeof field === 'string') ids.add(field);
        else collect(field);
      }
    }
  };
  for (const request of accepted) {
    for (const part of new URL(request.url).pathname.split('/')) ids.add(decodeURIComponent(part));
    try {
      collect(JSON.parse(request.body));
    } catch {
      // A body that is not JSON names no object.
    }
  }
  return ids;
}

/** The listings without the objects in `touched`, and without the per-object listings of a touched object. */
function withoutTouched(listing: Listings, touched: Set<string>): Record<string, unknown> {
  const kept = <T extends { id: string }>(items: T[]): T[] => items.filter((item) => !touched.has(item.id));
  return {
    agents: kept(listing.agents),
    environments: kept(listing.environments),
    vaults: kept(listing.vaults),
    sessions: kept(listing.sessions),
    files: kept(listing.files),
    workspaces: kept(listing.workspaces),
    apiKeys: kept(listing.apiKeys),
    agentVersions: touched.has(seeded.agentId) ? 'touched' : listing.agentVersions,
    credentials: touched.has(seeded.vaultId) || touched.has(seeded.credentialId) ? 'touched' : listing.credentials,
    resources: touched.has(seeded.sessionId) ? 'touched' : listing.resources,
    memoryStores: kept(listing.memoryStores),
    memories: touched.has(seeded.memoryStoreId) ? 'touched' : listing.memories,
    memoryVersions: touched.has(seeded.memoryStoreId) ? 'touched' : listing.memoryVersions,
    skills: kept(listing.skills),
    skillVersions: touched.has(seeded.skillId) ? 'touched' : listing.skillVersions,
    events: touched.has(seeded.sessionId) ? 'touched' : listing.events,
  };
}

/** Everything a rejected request could have changed: every listing, archived objects included, and the log. */
async function listings(sdk: Anthropic, ids: SeededIds): Promise<Listings> {
  const all = async <T>(page: AsyncIterable<T>): Promise<T[]> => {
    const items: T[] = [];
    for await (const item of page) items.push(item);
    return items;
  };
  return {
    agents: await all(sdk.beta.agents.list({ include_archived: true, limit: 100 })),
    agentVersions: await all(sdk.beta.agents.versions.list(ids.agentId, { limit: 100 })),
    environments: await all(sdk.beta.environments.list({ include_archived: true, limit: 100 })),
    vaults: await all(sdk.beta.vaults.list({ include_archived: true, limit: 100 })),
    credentials: await all(sdk.beta.vaults.credentials.list(ids.vaultId, { include_archived: true, limit: 100 })),
    sessions: await all(sdk.beta.sessions.list({ include_archived: true, limit: 100 })),
    resources: await all(sdk.beta.sessions.resources.list(ids.sessionId, { limit: 100 })),
    events: await all(sdk.beta.sessions.events.list(ids.sessionId, { limit: 100 })),
    files: await all(sdk.beta.files.list({ limit: 100 })),
    workspaces: await all(sdk.beta.organization.workspaces.list({ include_archived: true, limit: 100 })),
    apiKeys: await all(sdk.beta.organization.apiKeys.list({ limit: 100 })),
    memoryStores: await all(sdk.beta.memoryStores.list({ include_archived: true, limit: 100 })),
    memories: await all(sdk.beta.memoryStores.memories.list(ids.memoryStoreId, { limit: 100, view: 'full' })),
    memoryVersions: await all(sdk.beta.memoryStores.memoryVersions.list(ids.memoryStoreId, { limit: 100 })),
    skills: await all(sdk.beta.skills.list({ limit: 100 })),
    skillVersions: await all(sdk.beta.skills.versions.list(ids.skillId, { limit: 100 })),
  };
}

/**
 * Runs `schemathesis run` against the stack's `/openapi.json` with the seeded ids as path parameters, and reads its
 * JUnit report. The API key is sent on every request and never fuzzed: a request refused for its key proves nothing.
 */
async function runSchemathesis(name: string, options: string[]): Promise<FuzzingResult> {
  const folder = path.join(workFolder, name);
  const configFile = path.join(workFolder, `${name}.toml`);
  const parameters = Object.entries(seeded).map(([key, value]) => `"path.${key}" = "${value}"`);
  const missing = Object.keys(seeded).map((key) => `"path.${key}" = "${MISSING_ID}"`);
  writeFileSync(
    configFile,
    [
      '[parameters]',
      ...parameters,
      // An accepted stream request stays open for as long as its session lives: the stream is fuzzed on a session
      // that does not exist, where every request is answered at once (its query is validated before the lookup).
      '[[operations]]',
      'include-path = "/v1/sessions/{sessionId}/events/stream"',
      `parameters = { "path.sessionId" = "${MISSING_SESSION_ID}" }`,
      // The primary thread's stream is the session's stream: fuzzed on a session that does not exist too.
      '[[operations]]',
      'include-path = "/v1/sessions/{sessionId}/threads/{threadId}/stream"',
      `parameters = { "path.sessionId" = "${MISSING_SESSION_ID}" }`,
      // An operation whose only input is its path has no invalid request to make once the ids are fixed: in the
      // negative pass it gets ids that name nothing, so it cannot remove the objects the other operations reach.
      ...(name === 'negative'
        ? ['include-method = "DELETE"', 'include-path-regex = "/(archive|ack)$"'].flatMap((filter) => [
            '[[operations]]',
            filter,
            `parameters = { ${missing.join(', ')} }`,
          ])
        : []),
      '',
    ].join('\n'),
  );
  const output: string[] = [];
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      SCHEMATHESIS,
      [
        '--config-file',
        configFile,
        'run',
        `${harness.stack.apiUrl}/openapi.json`,
        '--header',
        `x-api-key: ${TEST_API_KEY}`,
        '--generation-with-security-parameters',
        'false',
        '--seed',
        String(SEED),
        '--generation-database',
        'none',
        '--workers',
        '2',
        '--request-timeout',
        '20',
        '--no-color',
        '--report',
        'junit,har',
        '--report-dir',
        folder,
        ...options,
      ],
      { cwd: workFolder, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  const reportName = existsSync(folder) ? readdirSync(folder).find((file) => file.endsWith('.xml')) : undefined;
  if (reportName === undefined) {
    throw new Error(`schemathesis exited ${String(exitCode)} without a JUnit report:\n${output.join('')}`);
  }
  const junit = readFileSync(path.join(folder, reportName), 'utf8');
  const harName = readdirSync(folder).find((file) => file.startsWith('har'));
  const har = harName === undefined ? undefined : (JSON.parse(readFileSync(path.join(folder, harName), 'utf8')) as Har);
  const suite = /<testsuite [^>]*>/.exec(junit)?.[0] ?? '';
  const count = (attribute: string): number => Number(new RegExp(`${attribute}="(\\d+)"`).exec(suite)?.[1] ?? NaN);
  const failures = count('failures');
  const errors = count('errors');
  return {
    operations: count('tests'),
    failures,
    errors,
    report: failures + errors === 0 ? '' : findings(output.join('')),
    requests: har?.log.entries.length ?? 0,
    accepted: (har?.log.entries ?? [])
      .filter((entry) => entry.request.method !== 'GET' && entry.response.status < 300)
      .map((entry) => ({
        method: entry.request.method,
        url: entry.request.url,
        requestBody: entry.request.postData?.text ?? '',
        status: entry.response.status,
        body: entry.response.content.text ?? '',
      })),
  };
}

/** The failures and errors sections of Schemathesis' output (each with the request that reproduces it). */
function findings(output: string): string {
  const start = output.search(/=+ (FAILURES|ERRORS) =+/);
  const end = output.search(/=+ (WARNINGS|SUMMARY) =+/);
  return output.slice(start === -1 ? 0 : start, end === -1 ? undefined : end).slice(0, 20_000);
}

/** Every listing of the stack, archived objects included. */
type Listings = {
  [
    Key in
      'agents' | 'environments' | 'vaults' | 'sessions' | 'files' | 'workspaces' | 'apiKeys' | 'memoryStores' | 'skills'
  ]: {
    id: string;
  }[];
} & {
  [
    Key in 'agentVersions' | 'credentials' | 'resources' | 'events' | 'memories' | 'memoryVersions' | 'skillVersions'
  ]: unknown[];
};

/** The parts of the OpenAPI document the test reads. */
interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        parameters: { name: string }[];
        requestBody?: { content: Record<string, { schema?: { required?: string[]; additionalProperties?: unknown } }> };
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { securitySchemes: Record<string, unknown> };
}
