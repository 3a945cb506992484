import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialRefreshError } from '../activities/credentials/refresh-access-token';
import { credentialStoreFile, SqliteCredentialResolver } from '../activities/credentials/sqlite-credential-resolver';
import { credentialSecretContext } from '../common/credential-secret-context';
import { generateSecretKey, openSecret } from '../common/secret-box';
import { CredentialService } from '../server/vaults/credentials/credential-service';
import type { CreateCredentialBody } from '../server/vaults/credentials/credential-request-schemas';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import type { SqliteStore } from '../server/store/open-sqlite-store';
import { VaultService } from '../server/vaults/vault-service';

/** One request the loopback token endpoint received. */
interface TokenRequest {
  form: URLSearchParams;
  authorization: string | undefined;
  contentType: string | undefined;
}

/** A real OAuth token endpoint on loopback: it records requests and answers what the test queues (JSON, status). */
class TokenEndpoint {
  readonly requests: TokenRequest[] = [];
  readonly answers: Array<{ status: number; body: Record<string, unknown>; delayMs?: number }> = [];
  private readonly server: Server;
  url = '';

  private constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then(async (body) => {
        this.requests.push({
          form: new URLSearchParams(body),
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
        });
        const answer = this.answers.shift() ?? { status: 500, body: { error: 'script_ran_out' } };
        if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
  }

  static async start(): Promise<TokenEndpoint> {
    const endpoint = new TokenEndpoint();
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    endpoint.url = `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}/oauth/token`;
    return endpoint;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The `CredentialRefreshError` that `call` rejects with; fails the test otherwise. */
async function refusal(call: Promise<unknown>): Promise<CredentialRefreshError> {
  const error = await call.then(
    () => new Error('expected the call to fail'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof CredentialRefreshError)) throw error;
  return error;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => resolve(body));
  });
}

let dataDir: string;
let store: SqliteStore;
let vaults: VaultService;
let credentials: CredentialService;
let tokens: TokenEndpoint;
let resolver: SqliteCredentialResolver;
const key = generateSecretKey();

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-resolver-'));
  store = openSqliteStore({ filename: storeFilePath(dataDir) });
  vaults = new VaultService(store);
  credentials = new CredentialService(store, vaults, key);
  tokens = await TokenEndpoint.start();
  resolver = new SqliteCredentialResolver({ filename: credentialStoreFile(dataDir), secretKey: key });
});

afterEach(async () => {
  resolver.close();
  await store.close();
  await tokens.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Creates an `mcp_oauth` credential whose access token expired a minute ago (written to the store directly). */
async function expiredOAuth(
  vaultId: string,
  tokenEndpointAuth: NonNullable<
    Extract<CreateCredentialBody['auth'], { type: 'mcp_oauth' }>['refresh']
  >['token_endpoint_auth'],
  server = 'https://mcp.example.com/mcp',
): Promise<string> {
  const created = await credentials.create(vaultId, {
    auth: {
      type: 'mcp_oauth',
      access_token: 'old-access-token',
      mcp_server_url: server,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      refresh: {
        client_id: 'keel client/1',
        refresh_token: 'refresh-token-one',
        token_endpoint: tokens.url,
        token_endpoint_auth: tokenEndpointAuth,
        scope: 'mcp:read mcp:write',
        resource: 'https://mcp.example.com/',
      },
    },
  });
  expireNow(created.id, new Date(Date.now() - 60_000).toISOString());
  return created.id;
}

function expireNow(credentialId: string, expiresAt: string): void {
  const database = new Database(storeFilePath(dataDir));
  try {
    database.prepare('UPDATE vault_credentials SET expires_at = ? WHERE id = ?').run(expiresAt, credentialId);
  } finally {
    database.close();
  }
}

function storedRow(credentialId: string): { access_token: string; refresh_token: string; expires_at: string | null } {
  const database = new Database(storeFilePath(dataDir), { readonly: true });
  try {
    return database
      .prepare<[string], { access_token: string; refresh_token: string; expires_at: string | null }>(
        'SELECT access_token, refresh_token, expires_at FROM vault_credentials WHERE id = ?',
      )
      .get(credentialId)!;
  } finally {
    database.close();
  }
}

function storeBytes(): Buffer {
  return Buffer.concat(
    readdirSync(dataDir)
      .filter((name) => name.startsWith('keel.sqlite'))
      .map((name) => readFileSync(path.join(dataDir, name))),
  );
}

describe('SqliteCredentialResolver (the worker reads the server store)', () => {
  it('credentialStoreFile names the file the server opens', () => {
    expect(credentialStoreFile(dataDir)).toBe(storeFilePath(dataDir));
  });

  it('mcpBearerToken: static_bearer by server URL, first vault in order wins, archived ones and other URLs are skipped', async () => {
    const first = await vaults.create({ display_name: 'first' });
    const second = await vaults.create({ display_name: 'second' });
    const bearer = (vaultId: string, token: string, url = 'https://MCP.example.com:443/mcp/') =>
      credentials.create(vaultId, { auth: { type: 'static_bearer', token, mcp_server_url: url } });
    await bearer(first.id, 'token-in-first');
    const inSecond = await bearer(second.id, 'token-in-second');
    await bearer(second.id, 'token-for-other', 'https://other.example.com/mcp');

    expect(await resolver.mcpBearerToken([first.id, second.id], 'https://mcp.example.com/mcp')).toBe('token-in-first');
    expect(await resolver.mcpBearerToken([second.id, first.id], 'https://mcp.example.com/mcp')).toBe('token-in-second');
    expect(await resolver.mcpBearerToken([second.id], 'https://other.example.com/mcp')).toBe('token-for-other');
    expect(await resolver.mcpBearerToken([second.id], 'https://unknown.example.com/mcp')).toBeNull();
    expect(await resolver.mcpBearerToken([], 'https://mcp.example.com/mcp')).toBeNull();

    await vaults.archive(first.id);
    expect(await resolver.mcpBearerToken([first.id, second.id], 'https://mcp.example.com/mcp')).toBe('token-in-second');
    await credentials.archive(second.id, inSecond.id);
    expect(await resolver.mcpBearerToken([first.id, second.id], 'https://mcp.example.com/mcp')).toBeNull();
    expect(tokens.requests).toHaveLength(0);
  });

  it('mcp_oauth: a token valid for more than 30 s is returned as it is, without calling the token endpoint', async () => {
    const vault = await vaults.create({ display_name: 'fresh' });
    const created = await credentials.create(vault.id, {
      auth: {
        type: 'mcp_oauth',
        access_token: 'still-good',
        mcp_server_url: 'https://mcp.example.com/mcp',
        expires_at: new Date(Date.now() + 120_000).toISOString(),
        refresh: {
          client_id: 'c',
          refresh_token: 'r',
          token_endpoint: tokens.url,
          token_endpoint_auth: { type: 'none' },
        },
      },
    });
    expect(await resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe('still-good');
    expireNow(created.id, new Date(Date.now() + 20_000).toISOString());
    tokens.answers.push({ status: 200, body: { access_token: 'renewed-early', token_type: 'Bearer', expires_in: 60 } });
    expect(await resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe('renewed-early');
    expect(tokens.requests).toHaveLength(1);
  });

  it('mcp_oauth, client_secret_basic: an expired token is refreshed, and the new tokens are stored sealed', async () => {
    const vault = await vaults.create({ display_name: 'basic' });
    const id = await expiredOAuth(vault.id, { type: 'client_secret_basic', client_secret: 'se cret:&=' });
    tokens.answers.push({
      status: 200,
      body: {
        access_token: 'brand-new-access-token-5e6f',
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: 'rotated-refresh-token-7a8b',
      },
    });
    const before = Date.now();
    expect(await resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe(
      'brand-new-access-token-5e6f',
    );

    expect(tokens.requests).toHaveLength(1);
    const [request] = tokens.requests;
    expect(request!.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(request!.form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-token-one',
      scope: 'mcp:read mcp:write',
      resource: 'https://mcp.example.com/',
    });
    const basic = Buffer.from(request!.authorization!.replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe('keel+client%2F1:se+cret%3A%26%3D');

    const row = storedRow(id);
    expect(openSecret(key, row.access_token, credentialSecretContext(id, 'access_token'))).toBe(
      'brand-new-access-token-5e6f',
    );
    expect(openSecret(key, row.refresh_token, credentialSecretContext(id, 'refresh_token'))).toBe(
      'rotated-refresh-token-7a8b',
    );
    expect(Date.parse(row.expires_at!)).toBeGreaterThanOrEqual(before + 3_590_000);
    const bytes = storeBytes();
    for (const plaintext of ['brand-new-access-token-5e6f', 'rotated-refresh-token-7a8b']) {
      expect(bytes.includes(Buffer.from(plaintext))).toBe(false);
    }
    const view = await credentials.retrieve(vault.id, id);
    expect(view.auth).toMatchObject({ type: 'mcp_oauth', expires_at: row.expires_at });

    // The refreshed token is now fresh: the next call reads it from the store without another refresh.
    const again = new SqliteCredentialResolver({ filename: credentialStoreFile(dataDir), secretKey: key });
    expect(await again.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe('brand-new-access-token-5e6f');
    again.close();
    expect(tokens.requests).toHaveLength(1);
  });

  it('mcp_oauth, client_secret_post and none: the client authenticates in the body; a kept refresh token stays', async () => {
    const vault = await vaults.create({ display_name: 'post' });
    const postId = await expiredOAuth(vault.id, { type: 'client_secret_post', client_secret: 'post-secret' });
    const noneId = await expiredOAuth(vault.id, { type: 'none' }, 'https://public.example.com/mcp');
    tokens.answers.push({ status: 200, body: { access_token: 'post-new' } });
    tokens.answers.push({ status: 200, body: { access_token: 'none-new', expires_in: 600 } });

    expect(await resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe('post-new');
    expect(await resolver.mcpBearerToken([vault.id], 'https://public.example.com/mcp')).toBe('none-new');
    const [post, none] = tokens.requests;
    expect(post!.authorization).toBeUndefined();
    expect(post!.form.get('client_id')).toBe('keel client/1');
    expect(post!.form.get('client_secret')).toBe('post-secret');
    expect(none!.authorization).toBeUndefined();
    expect(none!.form.get('client_id')).toBe('keel client/1');
    expect(none!.form.has('client_secret')).toBe(false);

    const postRow = storedRow(postId);
    expect(postRow.expires_at).toBeNull();
    expect(openSecret(key, postRow.refresh_token, credentialSecretContext(postId, 'refresh_token'))).toBe(
      'refresh-token-one',
    );
    expect(storedRow(noneId).expires_at).not.toBeNull();
  });

  it('mcp_oauth: calls racing on one expired token share one refresh', async () => {
    const vault = await vaults.create({ display_name: 'race' });
    await expiredOAuth(vault.id, { type: 'none' });
    tokens.answers.push({ status: 200, body: { access_token: 'shared-new', expires_in: 600 }, delayMs: 200 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')),
    );
    expect(results).toEqual(Array(5).fill('shared-new'));
    expect(tokens.requests).toHaveLength(1);
  });

  it('mcp_oauth: a refused refresh throws an error that names the status and code but no secret, and stores nothing', async () => {
    const vault = await vaults.create({ display_name: 'refused' });
    const id = await expiredOAuth(vault.id, { type: 'client_secret_post', client_secret: 'never-in-a-message' });
    const before = storedRow(id);
    tokens.answers.push({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'refresh-token-one is revoked' },
    });
    const refused = await refusal(resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp'));
    expect(refused).toBeInstanceOf(CredentialRefreshError);
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain('HTTP 400 (invalid_grant)');
    expect(refused.message).toContain(id);
    for (const secret of ['refresh-token-one', 'never-in-a-message', 'old-access-token']) {
      expect(refused.message).not.toContain(secret);
      expect(String(refused.stack)).not.toContain(secret);
    }
    expect(storedRow(id)).toEqual(before);

    tokens.answers.push({ status: 503, body: {} });
    const unavailable = await refusal(resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp'));
    expect(unavailable).toBeInstanceOf(CredentialRefreshError);
    expect(unavailable.retryable).toBe(true);

    await tokens.close();
    const unreachable = await refusal(resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp'));
    expect(unreachable).toBeInstanceOf(CredentialRefreshError);
    expect(unreachable.message).toContain('could not be reached');
    tokens = await TokenEndpoint.start();
  });

  it('mcp_oauth without refresh: an expired token is an error asking for a new access_token', async () => {
    const vault = await vaults.create({ display_name: 'no refresh' });
    const created = await credentials.create(vault.id, {
      auth: { type: 'mcp_oauth', access_token: 'lonely-token', mcp_server_url: 'https://mcp.example.com/mcp' },
    });
    expect(await resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp')).toBe('lonely-token');
    expireNow(created.id, new Date(Date.now() - 1_000).toISOString());
    const error = await refusal(resolver.mcpBearerToken([vault.id], 'https://mcp.example.com/mcp'));
    expect(error).toBeInstanceOf(CredentialRefreshError);
    expect(error.message).toMatch(/no refresh token/);
    expect(error.message).not.toContain('lonely-token');
  });
});
