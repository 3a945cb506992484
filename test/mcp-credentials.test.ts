import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpTestServer, stopMcpTestServer } from './support/mcp-test-server';
import type { McpTestServer } from './support/mcp-test-server';
import { recordingSdkClient } from './support/sdk';
import { execInSandbox, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { WORKSPACE_DISKS_FOLDER, filesUnder, readableText } from './support/readable-text';

/** The credentials under test: high entropy, so finding one anywhere can only mean it leaked. */
const SECRET = `mcp-secret-${randomBytes(24).toString('hex')}`;
const EXPIRED_ACCESS = `expired-access-${randomBytes(24).toString('hex')}`;
const REFRESH_TOKEN = `refresh-${randomBytes(24).toString('hex')}`;
const REFRESHED_ACCESS = `refreshed-access-${randomBytes(24).toString('hex')}`;
const ALL_SECRETS = [SECRET, EXPIRED_ACCESS, REFRESH_TOKEN, REFRESHED_ACCESS];

type Event = BetaManagedAgentsSessionEvent;

let harness: TestStack;
let mcp: McpTestServer;
/** A second MCP server that accepts only the access token the OAuth token endpoint hands out on refresh. */
let oauthMcp: McpTestServer;
let tokenEndpoint: HttpServer;
const refreshRequests: string[] = [];
let client: Anthropic;
let closedPortUrl: string;
/** Every response body the API sent to this test's SDK client. */
const responses: string[] = [];
/** Everything this process wrote to stdout and stderr while the test ran (Keel's and Temporal's worker logs). */
const logs: string[] = [];
const restoreWrites: Array<() => void> = [];

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
    restoreWrites.push(() => {
      stream.write = write;
    });
  }
  mcp = await startMcpTestServer({ token: SECRET });
  oauthMcp = await startMcpTestServer({ token: REFRESHED_ACCESS });
  tokenEndpoint = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      refreshRequests.push(body);
      const form = new URLSearchParams(body);
      const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === REFRESH_TOKEN;
      if (form.get('refresh_token') === 'endpoint-is-down') {
        response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
        return;
      }
      response.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          ok ? { access_token: REFRESHED_ACCESS, token_type: 'Bearer', expires_in: 3600 } : { error: 'invalid_grant' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
  harness = await startTestStack();
  client = recordingSdkClient(harness.stack.apiUrl, responses);
  closedPortUrl = `http://127.0.0.1:${await closedPort()}/mcp`;
});

afterAll(async () => {
  for (const restore of restoreWrites) restore();
  await harness?.stop();
  await stopMcpTestServer(mcp);
  await stopMcpTestServer(oauthMcp);
  await new Promise((resolve) => tokenEndpoint?.close(resolve));
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function allEvents(sessionId: string): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) events.push(event);
  return events;
}

async function waitForIdles(sessionId: string, count: number): Promise<Event[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = await allEvents(sessionId);
    if (events.filter((event) => event.type === 'session.status_idle').length >= count) return events;
    if (Date.now() > deadline) throw new Error(`timed out; log: ${JSON.stringify(events.map((e) => e.type))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function mcpAgent(): Promise<string> {
  const agent = await client.beta.agents.create({
    name: 'orders agent',
    model: 'scripted-model',
    mcp_servers: [
      { type: 'url', name: 'orders', url: mcp.url },
      { type: 'url', name: 'down', url: closedPortUrl },
    ],
    tools: [
      { type: 'agent_toolset_20260401' },
      {
        type: 'mcp_toolset',
        mcp_server_name: 'orders',
        default_config: { permission_policy: { type: 'always_allow' } },
        configs: [
          { name: 'fail_tool', permission_policy: { type: 'always_ask' } },
          { name: 'slow_tool', enabled: false },
        ],
      },
      { type: 'mcp_toolset', mcp_server_name: 'down' },
    ],
  });
  return agent.id;
}

async function mcpEnvironment(): Promise<string> {
  const environment = await client.beta.environments.create({
    name: 'mcp env',
    config: { type: 'cloud', networking: { type: 'limited', allow_mcp_servers: true } },
  });
  return environment.id;
}

/**
 * A vault holding an `mcp_oauth` credential for the OAuth MCP server whose access token expires within the worker's
 * 30 s margin, so the worker refreshes it (with `refreshToken`, at the loopback token endpoint) before its first use.
 */
let oauthVaults = 0;
async function oauthVault(accessToken: string, refreshToken: string): Promise<{ id: string }> {
  oauthVaults += 1;
  const vault = await client.beta.vaults.create({ display_name: `oauth vault ${oauthVaults}` });
  await client.beta.vaults.credentials.create(vault.id, {
    auth: {
      type: 'mcp_oauth',
      mcp_server_url: oauthMcp.url,
      access_token: accessToken,
      expires_at: new Date(Date.now() + 10_000).toISOString(),
      refresh: {
        token_endpoint: `http://127.0.0.1:${(tokenEndpoint.address() as { port: number }).port}/token`,
        client_id: 'keel-test-client',
        refresh_token: refreshToken,
        token_endpoint_auth: { type: 'none' },
      },
    },
  });
  return vault;
}

describe('MCP tools with a vault credential; the secret is nowhere the agent or the history can see', () => {
  let sessionId: string;

  it('lists and calls MCP tools with the vault bearer, applies permission policies, and reports a server that is down', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'orders vault' });
    await client.beta.vaults.credentials.create(vault.id, {
      display_name: 'orders token',
      auth: { type: 'static_bearer', token: SECRET, mcp_server_url: mcp.url },
    });
    const session = await client.beta.sessions.create({
      agent: await mcpAgent(),
      environment_id: await mcpEnvironment(),
      vault_ids: [vault.id],
    });
    sessionId = session.id;
    expect(session.vault_ids).toEqual([vault.id]);

    harness.model.enqueue(
      {
        kind: 'tool_uses',
        calls: [
          { name: 'mcp__orders__lookup_order', input: { orderId: 'A-17' } },
          { name: 'mcp__orders__fail_tool', input: { reason: 'asked' } },
        ],
      },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo sandbox-ran' } },
      { kind: 'text', text: 'Order A-17 has shipped.' },
    );
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'where is order A-17?' }] }],
    });
    const held = await waitForIdles(session.id, 1);
    const offered = ((harness.model.requests.at(-1)?.body.tools ?? []) as Array<{ name: string }>).map(
      (tool) => tool.name,
    );
    expect(offered).toEqual(
      expect.arrayContaining([
        'bash',
        'mcp__orders__lookup_order',
        'mcp__orders__fail_tool',
        'mcp__orders__big_output',
      ]),
    );
    expect(offered).not.toContain('mcp__orders__slow_tool');
    expect(offered.filter((name) => name.startsWith('mcp__down__'))).toEqual([]);
    const down = held.find((event) => event.type === 'session.error');
    // The turn goes on without the server's tools: `retrying`, since the SDK documents `exhausted` as a dead turn.
    expect(down).toMatchObject({
      error: { type: 'mcp_connection_failed_error', mcp_server_name: 'down', retry_status: { type: 'retrying' } },
    });

    const uses = held.filter((event) => event.type === 'agent.mcp_tool_use');
    expect(uses).toMatchObject([
      { name: 'lookup_order', mcp_server_name: 'orders', input: { orderId: 'A-17' }, evaluated_permission: 'allow' },
      { name: 'fail_tool', mcp_server_name: 'orders', evaluated_permission: 'ask' },
    ]);
    const lookupResult = held.find((event) => event.type === 'agent.mcp_tool_result');
    expect(lookupResult).toMatchObject({ mcp_tool_use_id: uses[0]!.id, is_error: false });
    expect(JSON.stringify(lookupResult)).toContain('Order A-17: 2 items, shipped.');
    expect(held.at(-1)).toMatchObject({
      type: 'session.status_idle',
      stop_reason: { type: 'requires_action', event_ids: [uses[1]!.id] },
    });
    expect(mcp.toolCalls.map((call) => call.name)).toEqual(['lookup_order']);

    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: uses[1]!.id, result: 'allow' }],
    });
    const done = await waitForIdles(session.id, 2);
    expect(done.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    const results = done.filter((event) => event.type === 'agent.mcp_tool_result');
    expect(results[1]).toMatchObject({ mcp_tool_use_id: uses[1]!.id, is_error: true });
    expect(JSON.stringify(results[1])).toContain('fail_tool failed: asked');
    expect(mcp.toolCalls.map((call) => [call.name, call.authorization])).toEqual([
      ['lookup_order', `Bearer ${SECRET}`],
      ['fail_tool', `Bearer ${SECRET}`],
    ]);
    expect(JSON.stringify(done.find((event) => event.type === 'agent.tool_result'))).toContain('sandbox-ran');
  });

  it('a credential the server refuses gives mcp_authentication_failed_error, and the session still answers', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'stale vault' });
    await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'not-the-right-token', mcp_server_url: mcp.url },
    });
    const session = await client.beta.sessions.create({
      agent: await mcpAgent(),
      environment_id: await mcpEnvironment(),
      vault_ids: [vault.id],
    });
    harness.model.enqueue({ kind: 'text', text: 'I cannot reach the order system.' });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'where is order A-18?' }] }],
    });
    const events = await waitForIdles(session.id, 1);
    const errors = events.filter((event) => event.type === 'session.error').map((event) => event.error);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'mcp_authentication_failed_error', mcp_server_name: 'orders' }),
        expect.objectContaining({ type: 'mcp_connection_failed_error', mcp_server_name: 'down' }),
      ]),
    );
    // Neither server's failure ends the turn: the session answers without their tools.
    for (const error of errors) expect(error).toMatchObject({ retry_status: { type: 'retrying' } });
    expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    expect(events.find((event) => event.type === 'agent.message')).toBeDefined();
    await client.beta.sessions.delete(session.id);
  });

  it('an expired mcp_oauth access token is refreshed at the token endpoint, and the MCP call carries the new one', async () => {
    const vault = await oauthVault(EXPIRED_ACCESS, REFRESH_TOKEN);
    const agent = await client.beta.agents.create({
      name: 'oauth orders agent',
      model: 'scripted-model',
      mcp_servers: [{ type: 'url', name: 'orders', url: oauthMcp.url }],
      tools: [
        {
          type: 'mcp_toolset',
          mcp_server_name: 'orders',
          default_config: { permission_policy: { type: 'always_allow' } },
        },
      ],
    });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: await mcpEnvironment(),
      vault_ids: [vault.id],
    });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'mcp__orders__lookup_order', input: { orderId: 'B-2' } },
      { kind: 'text', text: 'B-2 shipped.' },
    );
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'and order B-2?' }] }],
    });
    const events = await waitForIdles(session.id, 1);
    expect(events.filter((event) => event.type === 'session.error')).toEqual([]);
    expect(JSON.stringify(events.find((event) => event.type === 'agent.mcp_tool_result'))).toContain('Order B-2');
    expect(refreshRequests).toHaveLength(1);
    expect(new Set(oauthMcp.authorizationHeaders)).toEqual(new Set([`Bearer ${REFRESHED_ACCESS}`]));
    await client.beta.sessions.delete(session.id);
  });

  it('a refresh the token endpoint refuses, or that keeps failing, is a session.error, and the session still answers', async () => {
    const agent = await client.beta.agents.create({
      name: 'oauth agent, broken refresh',
      model: 'scripted-model',
      mcp_servers: [{ type: 'url', name: 'orders', url: oauthMcp.url }],
      tools: [{ type: 'mcp_toolset', mcp_server_name: 'orders' }],
    });
    const environmentId = await mcpEnvironment();
    for (const [refreshToken, errorType] of [
      ['refresh-token-the-endpoint-refuses', 'mcp_authentication_failed_error'],
      ['endpoint-is-down', 'mcp_connection_failed_error'],
    ] as const) {
      const vault = await oauthVault('about-to-expire', refreshToken);
      const session = await client.beta.sessions.create({
        agent: agent.id,
        environment_id: environmentId,
        vault_ids: [vault.id],
      });
      harness.model.enqueue({ kind: 'text', text: 'The order system is unavailable.' });
      await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: 'order C-3?' }] }],
      });
      const events = await waitForIdles(session.id, 1);
      expect(events.find((event) => event.type === 'session.error')).toMatchObject({
        error: { type: errorType, mcp_server_name: 'orders' },
      });
      expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
      expect((await client.beta.sessions.retrieve(session.id)).status).toBe('idle');
      await client.beta.sessions.delete(session.id);
    }
  });

  it('finds the secret in no Workflow history, event, API response, log, data file, or anywhere in the sandbox', async () => {
    const histories: string[] = [];
    for await (const execution of harness.stack.temporal.workflow.list()) {
      const history = await harness.stack.temporal.workflow
        .getHandle(execution.workflowId, execution.runId)
        .fetchHistory();
      histories.push(readableText(history).join('\n'));
    }
    expect(histories.length).toBeGreaterThanOrEqual(2);
    // The check can fail: the histories do hold what the MCP server answered.
    expect(histories.join('\n')).toContain('Order A-17: 2 items, shipped.');
    const events = JSON.stringify(await allEvents(sessionId));
    const modelRequests = JSON.stringify(harness.model.requests);
    expect(responses.length).toBeGreaterThan(10);
    for (const secret of ALL_SECRETS) {
      for (const history of histories) expect(history).not.toContain(secret);
      expect(events).not.toContain(secret);
      for (const body of responses) expect(body).not.toContain(secret);
      expect(logs.join('')).not.toContain(secret);
      // What the model was sent (the agent's whole context).
      expect(modelRequests).not.toContain(secret);
    }

    // Every file of the data folder: the Temporal dev server's database (histories at rest) and the encrypted store.
    const files = filesUnder(harness.config.dataDir, [WORKSPACE_DISKS_FOLDER]);
    expect(files.some((file) => file.endsWith('.db') || file.endsWith('.sqlite'))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of ALL_SECRETS) expect(bytes.includes(secret), file).toBe(false);
    }

    // Inside the sandbox: environment of every process, command lines, and every file of the container.
    const environments = await execInSandbox(harness.docker, sessionId, [
      'sh',
      '-c',
      'env; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; echo; done',
    ]);
    expect(environments).toContain('PATH=');
    for (const secret of ALL_SECRETS) expect(environments).not.toContain(secret);
    const search = (needle: string) =>
      execInSandbox(harness.docker, sessionId, [
        'sh',
        '-c',
        `grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev -e '${needle}' / ; echo "grep-exit=$?"`,
      ]);
    // The same search finds what is there (the control), and finds nothing for the secret.
    expect(await search('PRETTY_NAME=')).toContain('/usr/lib/os-release');
    for (const secret of ALL_SECRETS) {
      const found = (await search(secret)).trim().split('\n');
      expect(found.filter((line) => !line.startsWith('grep-exit='))).toEqual([]);
      expect(found.at(-1)).not.toBe('grep-exit=0');
    }
    await client.beta.sessions.delete(sessionId);
  });
});
