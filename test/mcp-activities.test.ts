import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CancelledFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialRefreshError } from '../activities/credentials/refresh-access-token';
import { SecretBoxError } from '../common/secret-box';

import { callMcpTool } from '../activities/mcp/call-mcp-tool';
import { createMcpActivities } from '../activities/mcp/create-mcp-activities';
import type { McpActivities, McpActivityOptions } from '../activities/mcp/create-mcp-activities';
import { resolveMcpActivityOptions } from '../activities/mcp/mcp-options';
import type { CredentialResolver } from '../common/credentials';
import type { CallMcpToolInput, CallMcpToolResult, ListMcpToolsResult, McpServerRef } from '../common/mcp';
import { startMcpTestServer, stopMcpTestServer } from './support/mcp-test-server';
import type { McpTestServer } from './support/mcp-test-server';

/**
 * A credential resolver over an in-memory table (vault id → MCP server URL → token), with the interface's rule: the
 * first vault in `vaultIds` that holds a credential for the URL wins. The vault-backed one is tested elsewhere.
 */
class TableCredentialResolver implements CredentialResolver {
  readonly requests: Array<{ vaultIds: string[]; mcpServerUrl: string }> = [];
  constructor(readonly vaults: Map<string, Map<string, string>>) {}

  mcpBearerToken(vaultIds: string[], mcpServerUrl: string): Promise<string | null> {
    this.requests.push({ vaultIds, mcpServerUrl });
    for (const vaultId of vaultIds) {
      const token = this.vaults.get(vaultId)?.get(mcpServerUrl);
      if (token !== undefined) return Promise.resolve(token);
    }
    return Promise.resolve(null);
  }
}

function secretToken(): string {
  return `tok_${randomBytes(18).toString('hex')}`;
}

/** Every token a test used and every result it got: `afterEach` checks that no result carries a token. */
const tokensUsed: string[] = [];
const resultsSeen: unknown[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  const json = JSON.stringify(resultsSeen);
  for (const token of tokensUsed) expect(json).not.toContain(token);
  tokensUsed.length = 0;
  resultsSeen.length = 0;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options: Partial<Parameters<typeof startMcpTestServer>[0]> = {}): Promise<McpTestServer> {
  const token = options.token ?? secretToken();
  tokensUsed.push(token);
  const server = await startMcpTestServer({ ...options, token });
  cleanups.push(() => stopMcpTestServer(server));
  return server;
}

function serverRef(url: string): McpServerRef {
  return { name: 'orders', url };
}

/** MCP Activities whose results are recorded for the token scan, with a resolver holding `token` for `url`. */
function activitiesFor(
  url: string,
  token: string | null,
  options: Omit<McpActivityOptions, 'credentials'> = {},
): { activities: McpActivities; credentials: TableCredentialResolver } {
  if (token !== null) tokensUsed.push(token);
  const vault = new Map<string, string>(token === null ? [] : [[url, token]]);
  const credentials = new TableCredentialResolver(new Map([['vlt_main', vault]]));
  const activities = createMcpActivities({ credentials, ...options });
  return {
    credentials,
    activities: {
      listMcpTools: async (input) => record(await activities.listMcpTools(input)),
      callMcpTool: async (input) => record(await activities.callMcpTool(input)),
    },
  };
}

function record<Result extends ListMcpToolsResult | CallMcpToolResult>(result: Result): Result {
  resultsSeen.push(result);
  return result;
}

function callInput(url: string, toolName: string, input: Record<string, unknown>): CallMcpToolInput {
  return { sessionId: 'sesn_mcp_test', server: serverRef(url), vaultIds: ['vlt_main'], toolName, input };
}

function listInput(url: string): { sessionId: string; server: McpServerRef; vaultIds: string[] } {
  return { sessionId: 'sesn_mcp_test', server: serverRef(url), vaultIds: ['vlt_main'] };
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/mcp`;
}

/** A plain HTTP server that is not MCP: it answers every request with `status`, echoing the Authorization header. */
async function startPlainServer(status: number, contentType: string): Promise<string> {
  const server: Server = createServer((request, response) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(`<html><body>Not MCP. You sent: ${request.headers.authorization ?? 'nothing'}</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

describe('listMcpTools', () => {
  it('lists the tools of a server that accepts the vault token, with names, descriptions and input schemas', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities, credentials } = activitiesFor(server.url, token);

    const result = await activities.listMcpTools(listInput(server.url));

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.tools.map((tool) => tool.name)).toEqual([
      'lookup_order',
      'fail_tool',
      'big_output',
      'mixed_content',
      'slow_tool',
    ]);
    const lookupOrder = result.tools[0];
    expect(lookupOrder?.description).toBe('Looks up an order by id.');
    expect(lookupOrder?.inputSchema).toMatchObject({ type: 'object', properties: { orderId: { type: 'string' } } });
    expect(credentials.requests).toEqual([{ vaultIds: ['vlt_main'], mcpServerUrl: server.url }]);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(server.openSessionCount).toBe(0);
  });

  it('follows tools/list cursors until the last page', async () => {
    const token = secretToken();
    const server = await startServer({ token, toolsPageSize: 2 });
    const { activities } = activitiesFor(server.url, token);

    const result = await activities.listMcpTools(listInput(server.url));

    expect(result.ok && result.tools.map((tool) => tool.name)).toEqual([
      'lookup_order',
      'fail_tool',
      'big_output',
      'mixed_content',
      'slow_tool',
    ]);
  });

  it('reports mcp_authentication_failed_error for a wrong token, naming the server and not the token', async () => {
    const server = await startServer();
    const wrongToken = secretToken();
    const { activities } = activitiesFor(server.url, wrongToken);

    const result = await activities.listMcpTools(listInput(server.url));

    expect(result).toEqual({
      ok: false,
      error: { type: 'mcp_authentication_failed_error', message: expect.stringContaining('MCP server "orders"') },
    });
    expect(!result.ok && result.error.message).toContain('HTTP 401');
    expect(server.authorizationHeaders).toContain(`Bearer ${wrongToken}`);
  });

  it('reports mcp_connection_failed_error when nothing listens on the port', async () => {
    const url = await closedPortUrl();
    const { activities } = activitiesFor(url, secretToken());

    const result = await activities.listMcpTools(listInput(url));

    expect(result).toEqual({
      ok: false,
      error: { type: 'mcp_connection_failed_error', message: expect.stringContaining('ECONNREFUSED') },
    });
    expect(!result.ok && result.error.message).toContain('MCP server "orders" (http://127.0.0.1:');
  });

  it('reports mcp_connection_failed_error for a host name that does not resolve', async () => {
    const url = 'http://keel-mcp-test.invalid/mcp';
    const { activities } = activitiesFor(url, secretToken());

    const result = await activities.listMcpTools(listInput(url));

    expect(result).toMatchObject({ ok: false, error: { type: 'mcp_connection_failed_error' } });
    expect(!result.ok && result.error.message).toMatch(/could not be reached: (ENOTFOUND|EAI_AGAIN)/);
  });

  it('reports mcp_connection_failed_error for an HTTP server that is not MCP, without echoing the token', async () => {
    const htmlUrl = await startPlainServer(200, 'text/html');
    const errorUrl = await startPlainServer(500, 'text/html');
    const token = secretToken();

    const htmlResult = await activitiesFor(htmlUrl, token).activities.listMcpTools(listInput(htmlUrl));
    const errorResult = await activitiesFor(errorUrl, token).activities.listMcpTools(listInput(errorUrl));

    expect(htmlResult).toMatchObject({ ok: false, error: { type: 'mcp_connection_failed_error' } });
    expect(!htmlResult.ok && htmlResult.error.message).toContain('did not answer as an MCP server');
    expect(errorResult).toMatchObject({ ok: false, error: { type: 'mcp_connection_failed_error' } });
    expect(!errorResult.ok && errorResult.error.message).toContain('answered HTTP 500');
    expect(!errorResult.ok && errorResult.error.message).toContain('You sent: Bearer [redacted]');
  });
});

describe('callMcpTool', () => {
  it('calls a tool with the bearer from the vault, and the server saw that bearer on every request', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token);

    const result = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 'A-1042' }));

    expect(result).toEqual({
      ok: true,
      content: [{ type: 'text', text: 'Order A-1042: 2 items, shipped.' }],
      isError: false,
    });
    expect(server.toolCalls).toEqual([
      { name: 'lookup_order', arguments: { orderId: 'A-1042' }, authorization: `Bearer ${token}` },
    ]);
    expect(server.authorizationHeaders.length).toBeGreaterThan(1);
    expect(new Set(server.authorizationHeaders)).toEqual(new Set([`Bearer ${token}`]));
    expect(server.openSessionCount).toBe(0);
  });

  it('scrubs the bearer token from what a server answers, even from a successful result', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token);

    const result = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: `echo ${token}` }));

    expect(result).toEqual({
      ok: true,
      content: [{ type: 'text', text: 'Order echo [redacted]: 2 items, shipped.' }],
      isError: false,
    });
  });

  it('reports a credential the worker cannot use (a refused refresh, a key that cannot open it) as mcp_authentication_failed_error, and rethrows a transient failure', async () => {
    const server = await startServer({ token: secretToken() });
    const failing = (error: Error): CredentialResolver => ({ mcpBearerToken: () => Promise.reject(error) });
    for (const error of [
      new CredentialRefreshError('the token endpoint refused the refresh grant (invalid_grant)', false),
      new SecretBoxError('the secret cannot be opened with this key'),
    ]) {
      const result = await createMcpActivities({ credentials: failing(error) }).listMcpTools(listInput(server.url));
      expect(result).toMatchObject({ ok: false, error: { type: 'mcp_authentication_failed_error' } });
      expect(JSON.stringify(result)).toContain(error.message);
    }
    const transient = new CredentialRefreshError('the token endpoint answered HTTP 503', true);
    await expect(
      createMcpActivities({ credentials: failing(transient) }).listMcpTools(listInput(server.url)),
    ).rejects.toBe(transient);
  });

  it('takes the token from the first vault, in order, that holds a credential for the server', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    tokensUsed.push('tok_other_server');
    const credentials = new TableCredentialResolver(
      new Map([
        ['vlt_empty', new Map<string, string>()],
        ['vlt_other', new Map([['http://127.0.0.1:1/mcp', 'tok_other_server']])],
        ['vlt_team', new Map([[server.url, token]])],
      ]),
    );
    const activities = createMcpActivities({ credentials });

    const result = record(
      await activities.callMcpTool({
        ...callInput(server.url, 'lookup_order', { orderId: 'B-7' }),
        vaultIds: ['vlt_empty', 'vlt_other', 'vlt_team'],
      }),
    );

    expect(result).toMatchObject({ ok: true, isError: false });
    expect(server.toolCalls[0]?.authorization).toBe(`Bearer ${token}`);
  });

  it('returns a tool that reported an error as ok with isError', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token);

    const result = await activities.callMcpTool(callInput(server.url, 'fail_tool', { reason: 'out of stock' }));

    expect(result).toEqual({
      ok: true,
      content: [{ type: 'text', text: 'fail_tool failed: out of stock' }],
      isError: true,
    });
  });

  it('returns an unknown tool and invalid arguments as tool errors the model can read', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token);

    const unknown = await activities.callMcpTool(callInput(server.url, 'no_such_tool', {}));
    const invalid = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 42 }));

    expect(unknown).toMatchObject({ ok: true, isError: true });
    expect(unknown.ok && unknown.content[0]?.text).toContain('no_such_tool');
    expect(invalid).toMatchObject({ ok: true, isError: true });
    expect(invalid.ok && invalid.content[0]?.text).toContain('orderId');
  });

  it('maps images, resources and links to text summaries', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token);

    const result = await activities.callMcpTool(callInput(server.url, 'mixed_content', {}));

    expect(result).toEqual({
      ok: true,
      isError: false,
      content: [
        { type: 'text', text: 'plain text' },
        { type: 'text', text: '[image: image/png]' },
        { type: 'text', text: 'notes body' },
        { type: 'text', text: '[resource: file:///blob.bin (application/octet-stream)]' },
        { type: 'text', text: '[resource link: doc https://example.com/doc]' },
      ],
    });
  });

  it('caps a large result at maxOutputBytes, keeping its head and tail and saying how much was cut', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token, { maxOutputBytes: 10_000 });

    const result = await activities.callMcpTool(callInput(server.url, 'big_output', { bytes: 300_000 }));

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.content).toHaveLength(1);
    const text = result.content[0]?.text ?? '';
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(10_000);
    expect(text.startsWith('HEAD-LINE\n')).toBe(true);
    expect(text.endsWith('\nTAIL-LINE')).toBe(true);
    expect(text).toMatch(/\[\.\.\. \d+ bytes of output cut here \.\.\.\]/);
  });

  it('reports mcp_authentication_failed_error for a wrong token, and a rotated token works once the vault has it', async () => {
    const oldToken = secretToken();
    const newToken = secretToken();
    const server = await startServer({ token: oldToken });
    const { activities, credentials } = activitiesFor(server.url, oldToken);
    tokensUsed.push(newToken);

    server.setToken(newToken);
    const refused = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 'C-1' }));
    credentials.vaults.get('vlt_main')?.set(server.url, newToken);
    const accepted = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 'C-1' }));

    expect(refused).toMatchObject({ ok: false, error: { type: 'mcp_authentication_failed_error' } });
    expect(!refused.ok && refused.error.message).toContain('not accepted');
    expect(accepted).toMatchObject({ ok: true, isError: false });
    expect(server.toolCalls.map((call) => call.authorization)).toEqual([`Bearer ${newToken}`]);
  });

  it('reports mcp_authentication_failed_error when no vault holds a credential and the server demands one', async () => {
    const server = await startServer();
    const { activities } = activitiesFor(server.url, null);

    const result = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 'D-1' }));

    expect(result).toMatchObject({ ok: false, error: { type: 'mcp_authentication_failed_error' } });
    expect(!result.ok && result.error.message).toContain('no vault of the session holds a credential');
    expect(server.authorizationHeaders).toEqual([undefined]);
    expect(server.toolCalls).toEqual([]);
  });

  it('reports mcp_authentication_failed_error for HTTP 403', async () => {
    const server = await startServer({ rejectStatus: 403 });
    const { activities } = activitiesFor(server.url, secretToken());

    const result = await activities.callMcpTool(callInput(server.url, 'lookup_order', { orderId: 'E-1' }));

    expect(result).toMatchObject({ ok: false, error: { type: 'mcp_authentication_failed_error' } });
    expect(!result.ok && result.error.message).toContain('HTTP 403');
  });

  it('reports mcp_connection_failed_error when the server is down', async () => {
    const url = await closedPortUrl();
    const { activities } = activitiesFor(url, secretToken());

    const result = await activities.callMcpTool(callInput(url, 'lookup_order', { orderId: 'F-1' }));

    expect(result).toMatchObject({ ok: false, error: { type: 'mcp_connection_failed_error' } });
    expect(!result.ok && result.error.message).toContain('could not be reached: ECONNREFUSED');
  });

  it('reports a tool that outlives callTimeoutMs as mcp_connection_failed_error naming the deadline', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    const { activities } = activitiesFor(server.url, token, { callTimeoutMs: 500 });

    const startedAt = Date.now();
    const result = await activities.callMcpTool(callInput(server.url, 'slow_tool', { ms: 5_000 }));

    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(result).toEqual({
      ok: false,
      error: { type: 'mcp_connection_failed_error', message: expect.stringContaining('did not answer within 500 ms') },
    });
  });

  it('rejects with the cancellation and aborts the request when the Activity is cancelled', async () => {
    const token = secretToken();
    const server = await startServer({ token });
    tokensUsed.push(token);
    const credentials = new TableCredentialResolver(new Map([['vlt_main', new Map([[server.url, token]])]]));
    const controller = new AbortController();
    const heartbeats: number[] = [];
    const options = resolveMcpActivityOptions({ credentials });

    const startedAt = Date.now();
    const call = callMcpTool(callInput(server.url, 'slow_tool', { ms: 10_000 }), options, {
      signal: controller.signal,
      heartbeat: () => heartbeats.push(Date.now()),
    });
    // Heartbeats go every second from the first second on (none at the start).
    setTimeout(() => controller.abort(new CancelledFailure('interrupted by the user')), 2_500);

    await expect(call).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(server.toolCalls.map((toolCall) => toolCall.name)).toEqual(['slow_tool']);
  });
});
