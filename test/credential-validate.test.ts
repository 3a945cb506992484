import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import type { CredentialCreateParams } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecretKey } from '../activities/credentials/secret-key-file';
import { SqliteCredentialRows, credentialStoreFile } from '../activities/credentials/sqlite-credential-resolver';
import { VaultCredentialResolver } from '../activities/credentials/vault-credential-resolver';
import { CAPTURED_BODY_MAX_CHARS, scrubSecrets } from '../server/vaults/credentials/captured-http-response';
import { startMcpTestServer, stopMcpTestServer } from './support/mcp-test-server';
import type { McpTestServer } from './support/mcp-test-server';
import { recordingSdkClient, rejection } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** High-entropy secrets: finding one in an answer can only mean it leaked. */
const secret = (name: string): string => `${name}-${randomBytes(20).toString('hex')}`;
const VALID_ACCESS = secret('valid-access');
const EXPIRED_ACCESS = secret('expired-access');
const REFRESH_TOKEN = secret('refresh');
const REVOKED_REFRESH = secret('revoked-refresh');
const REFRESHED_ACCESS = secret('refreshed-access');
const ROTATED_REFRESH = secret('rotated-refresh');
const CLIENT_SECRET = secret('client-secret');
const ALL_SECRETS = [VALID_ACCESS, EXPIRED_ACCESS, REFRESH_TOKEN, REVOKED_REFRESH, REFRESHED_ACCESS, ROTATED_REFRESH];

let harness: TestStack;
let client: Anthropic;
/** Accepts `VALID_ACCESS`. */
let mcp: McpTestServer;
/** Accepts only the access token the token endpoint hands out. */
let oauthMcp: McpTestServer;
/** Refuses every token with 403. */
let forbiddingMcp: McpTestServer;
let tokenEndpoint: HttpServer;
let tokenEndpointUrl: string;
/** The form bodies the token endpoint received. */
const refreshRequests: URLSearchParams[] = [];
let closedPortUrl: string;
/** Every response body the API sent to this file's SDK client. */
const responses: string[] = [];

beforeAll(async () => {
  mcp = await startMcpTestServer({ token: VALID_ACCESS });
  oauthMcp = await startMcpTestServer({ token: REFRESHED_ACCESS });
  forbiddingMcp = await startMcpTestServer({ token: secret('nobody-has-this'), rejectStatus: 403 });
  tokenEndpoint = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      refreshRequests.push(form);
      const refreshToken = form.get('refresh_token');
      if (form.get('grant_type') === 'refresh_token' && refreshToken === REFRESH_TOKEN) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: REFRESHED_ACCESS,
            refresh_token: ROTATED_REFRESH,
            token_type: 'Bearer',
            expires_in: 3600,
          }),
        );
        return;
      }
      // A careless endpoint: it echoes the grant it refused, secrets and all, and pads its answer.
      response.writeHead(400, { 'content-type': 'application/json; charset=utf-8' }).end(
        JSON.stringify({
          error: 'invalid_grant',
          error_description: `refresh token ${refreshToken ?? ''} was revoked for client ${form.get('client_id') ?? ''}`,
          client_secret: form.get('client_secret'),
          request: body,
          padding: 'x'.repeat(3 * CAPTURED_BODY_MAX_CHARS),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve));
  tokenEndpointUrl = `http://127.0.0.1:${(tokenEndpoint.address() as { port: number }).port}/oauth/token`;
  closedPortUrl = `http://127.0.0.1:${await closedPort()}/mcp`;
  // The validation is the server's alone: no worker is needed.
  harness = await startTestStack({ runWorker: false });
  client = recordingSdkClient(harness.stack.apiUrl, responses);
}, 120_000);

afterAll(async () => {
  await harness?.stop();
  await stopMcpTestServer(mcp);
  await stopMcpTestServer(oauthMcp);
  await stopMcpTestServer(forbiddingMcp);
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

/** A new vault holding one credential with `auth`; resolves to both ids. */
async function credentialWith(auth: CredentialCreateParams['auth']): Promise<{ vaultId: string; id: string }> {
  const vault = await client.beta.vaults.create({ display_name: 'validation' });
  const credential = await client.beta.vaults.credentials.create(vault.id, { auth });
  return { vaultId: vault.id, id: credential.id };
}

/** An `mcp_oauth` credential for `url` whose refresh settings point at the test's token endpoint. */
function oauthWithRefresh(url: string, accessToken: string, refreshToken: string): CredentialCreateParams['auth'] {
  return {
    type: 'mcp_oauth',
    mcp_server_url: url,
    access_token: accessToken,
    refresh: {
      client_id: 'keel-test-client',
      refresh_token: refreshToken,
      token_endpoint: tokenEndpointUrl,
      token_endpoint_auth: { type: 'client_secret_post', client_secret: CLIENT_SECRET },
      scope: 'orders:read',
    },
  };
}

function validate(ids: { vaultId: string; id: string }) {
  return client.beta.vaults.credentials.mcpOAuthValidate(ids.id, { vault_id: ids.vaultId });
}

const KEYS = [
  'credential_id',
  'has_refresh_token',
  'mcp_probe',
  'refresh',
  'status',
  'type',
  'validated_at',
  'vault_id',
].sort();

describe('vaults.credentials.mcpOAuthValidate through the official SDK', () => {
  it('a token the MCP server accepts: valid, after initialize and tools/list with the bearer token', async () => {
    const ids = await credentialWith({ type: 'mcp_oauth', mcp_server_url: mcp.url, access_token: VALID_ACCESS });
    const before = mcp.authorizationHeaders.length;
    const started = Date.now();
    const validation = await validate(ids);
    expect(Object.keys(validation).sort()).toEqual(KEYS);
    expect(validation).toEqual({
      type: 'vault_credential_validation',
      credential_id: ids.id,
      vault_id: ids.vaultId,
      status: 'valid',
      has_refresh_token: false,
      mcp_probe: null,
      refresh: null,
      validated_at: expect.any(String) as string,
    });
    expect(Date.parse(validation.validated_at)).toBeGreaterThanOrEqual(started - 1000);
    const seen = mcp.authorizationHeaders.slice(before);
    // initialize, notifications/initialized, tools/list and the session's end, each with the credential.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen)).toEqual(new Set([`Bearer ${VALID_ACCESS}`]));
    expect(mcp.openSessionCount).toBe(0);
  });

  it('a rejected token with a refresh that succeeds: the new tokens are stored sealed and the new token is valid', async () => {
    const ids = await credentialWith(oauthWithRefresh(oauthMcp.url, EXPIRED_ACCESS, REFRESH_TOKEN));
    const requestsBefore = refreshRequests.length;
    const startedAt = Date.now();
    const validation = await validate(ids);
    expect(validation).toMatchObject({
      status: 'valid',
      has_refresh_token: true,
      mcp_probe: null,
      refresh: { status: 'succeeded', http_response: null },
    });
    // One exchange, as the worker sends it: the stored refresh token, the client's id and secret, the scope.
    const exchanges = refreshRequests.slice(requestsBefore);
    expect(exchanges.map((form) => Object.fromEntries(form))).toEqual([
      {
        grant_type: 'refresh_token',
        refresh_token: REFRESH_TOKEN,
        client_id: 'keel-test-client',
        client_secret: CLIENT_SECRET,
        scope: 'orders:read',
      },
    ]);
    // The MCP server saw the old token refused, then the new one.
    expect(oauthMcp.authorizationHeaders).toContain(`Bearer ${EXPIRED_ACCESS}`);
    expect(oauthMcp.authorizationHeaders.at(-1)).toBe(`Bearer ${REFRESHED_ACCESS}`);

    // The expiry the endpoint gave is stored…
    const retrieved = await client.beta.vaults.credentials.retrieve(ids.id, { vault_id: ids.vaultId });
    const expiresAt = retrieved.auth.type === 'mcp_oauth' ? Date.parse(retrieved.auth.expires_at ?? '') : NaN;
    expect(expiresAt).toBeGreaterThanOrEqual(startedAt + 3_600_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000 + 1000);
    // …the worker's resolver opens the new access token the server sealed…
    const rows = new SqliteCredentialRows(credentialStoreFile(harness.config.dataDir));
    const secretKey = resolveSecretKey(harness.config.secretKey, harness.config.dataDir);
    try {
      const resolver = new VaultCredentialResolver({ rows, secretKey });
      expect(await resolver.mcpBearerToken([ids.vaultId], oauthMcp.url)).toBe(REFRESHED_ACCESS);
    } finally {
      rows.close();
    }
    // …and a second validation finds it valid at once, with no exchange.
    expect(await validate(ids)).toMatchObject({ status: 'valid', mcp_probe: null, refresh: null });
    expect(refreshRequests.length).toBe(requestsBefore + 1);
  });

  it('a rejected token with a refresh the endpoint refuses: invalid, with both responses captured and scrubbed', async () => {
    const ids = await credentialWith(oauthWithRefresh(oauthMcp.url, EXPIRED_ACCESS, REVOKED_REFRESH));
    const validation = await validate(ids);
    expect(validation).toMatchObject({
      status: 'invalid',
      has_refresh_token: true,
      mcp_probe: {
        method: 'initialize',
        http_response: {
          status_code: 401,
          content_type: 'application/json',
          body: '{"error":"invalid_token"}',
          body_truncated: false,
        },
      },
      refresh: {
        status: 'failed',
        http_response: { status_code: 400, content_type: 'application/json; charset=utf-8', body_truncated: true },
      },
    });
    const body = validation.refresh?.http_response?.body ?? '';
    expect(body.length).toBe(CAPTURED_BODY_MAX_CHARS);
    expect(body).toContain('"error":"invalid_grant"');
    expect(body).toContain('revoked for client keel-test-client');
    expect(body).toContain('[redacted]');
    for (const value of [REVOKED_REFRESH, CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET)]) {
      expect(body).not.toContain(value);
    }
    // Nothing was stored: the credential still holds its old token.
    const retrieved = await client.beta.vaults.credentials.retrieve(ids.id, { vault_id: ids.vaultId });
    expect(retrieved.auth.type === 'mcp_oauth' ? retrieved.auth.expires_at : 'not oauth').toBeNull();
  });

  it('a rejected token whose token endpoint cannot be reached: unknown, refresh connect_error', async () => {
    const auth = oauthWithRefresh(oauthMcp.url, EXPIRED_ACCESS, REFRESH_TOKEN);
    if (auth.type !== 'mcp_oauth' || !auth.refresh) throw new Error('expected mcp_oauth with refresh');
    const ids = await credentialWith({ ...auth, refresh: { ...auth.refresh, token_endpoint: closedPortUrl } });
    expect(await validate(ids)).toMatchObject({
      status: 'unknown',
      has_refresh_token: true,
      mcp_probe: { method: 'initialize', http_response: { status_code: 401 } },
      refresh: { status: 'connect_error', http_response: null },
    });
  });

  it('a rejected token without a refresh token: invalid, refresh no_refresh_token', async () => {
    const ids = await credentialWith({ type: 'mcp_oauth', mcp_server_url: mcp.url, access_token: EXPIRED_ACCESS });
    const requestsBefore = refreshRequests.length;
    expect(await validate(ids)).toMatchObject({
      status: 'invalid',
      has_refresh_token: false,
      mcp_probe: { method: 'initialize', http_response: { status_code: 401 } },
      refresh: { status: 'no_refresh_token', http_response: null },
    });
    expect(refreshRequests.length).toBe(requestsBefore);
  });

  it('a token the server forbids (403): invalid, and no refresh is tried', async () => {
    const ids = await credentialWith(oauthWithRefresh(forbiddingMcp.url, VALID_ACCESS, REFRESH_TOKEN));
    const requestsBefore = refreshRequests.length;
    expect(await validate(ids)).toMatchObject({
      status: 'invalid',
      mcp_probe: { method: 'initialize', http_response: { status_code: 403, body: '{"error":"forbidden"}' } },
      refresh: null,
    });
    expect(refreshRequests.length).toBe(requestsBefore);
  });

  it('an MCP server that cannot be reached: unknown, the failing method without an HTTP response', async () => {
    const ids = await credentialWith(oauthWithRefresh(closedPortUrl, VALID_ACCESS, REFRESH_TOKEN));
    expect(await validate(ids)).toEqual(
      expect.objectContaining({
        status: 'unknown',
        has_refresh_token: true,
        mcp_probe: { method: 'initialize', http_response: null },
        refresh: null,
      }),
    );
  });

  it('a static_bearer credential and an archived one: 400 naming why; an unknown credential or vault: 404', async () => {
    const bearer = await credentialWith({ type: 'static_bearer', mcp_server_url: mcp.url, token: VALID_ACCESS });
    const staticError = await rejection(validate(bearer));
    expect(staticError).toBeInstanceOf(BadRequestError);
    expect(staticError.error).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(staticError.message).toContain('static_bearer');

    const archived = await credentialWith({ type: 'mcp_oauth', mcp_server_url: mcp.url, access_token: VALID_ACCESS });
    await client.beta.vaults.credentials.archive(archived.id, { vault_id: archived.vaultId });
    const archivedError = await rejection(validate(archived));
    expect(archivedError).toBeInstanceOf(BadRequestError);
    expect(archivedError.message).toContain('archived');

    const missingCredential = await rejection(
      validate({ vaultId: bearer.vaultId, id: 'vcrd_000000000000000000000000' }),
    );
    expect(missingCredential).toBeInstanceOf(NotFoundError);
    expect(missingCredential.error).toMatchObject({ error: { type: 'not_found_error' } });
    const missingVault = await rejection(validate({ vaultId: 'vlt_000000000000000000000000', id: bearer.id }));
    expect(missingVault).toBeInstanceOf(NotFoundError);
  });

  it('scrubSecrets: known secrets (plain and form-encoded), token members, form fields and Authorization values', () => {
    const known = 'a+b/c=d secret';
    const text = [
      `echo ${known} and ${encodeURIComponent(known)} and ${new URLSearchParams({ known }).toString()}`,
      '{"access_token": "unknown-1", "id_token":"unknown-2", "error":"invalid_grant"}',
      'grant_type=refresh_token&refresh_token=unknown-3&client_secret=unknown-4&scope=read',
      'Authorization: Bearer unknown-5',
    ].join('\n');
    const scrubbed = scrubSecrets(text, [known, null, '']);
    for (const leaked of [
      known,
      encodeURIComponent(known),
      'a%2Bb%2Fc%3Dd+secret',
      'unknown-1',
      'unknown-2',
      'unknown-3',
      'unknown-4',
      'unknown-5',
    ]) {
      expect(scrubbed).not.toContain(leaked);
    }
    expect(scrubbed).toContain('"error":"invalid_grant"');
    expect(scrubbed).toContain('grant_type=refresh_token');
    expect(scrubbed).toContain('scope=read');
  });

  it('no answer of this file carries a token, a refresh token or the client secret', () => {
    const answered = responses.join('\n');
    expect(responses.length).toBeGreaterThan(10);
    for (const value of [...ALL_SECRETS, CLIENT_SECRET]) expect(answered).not.toContain(value);
  });
});
