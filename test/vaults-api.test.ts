import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError, ConflictError, NotFoundError } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsCredential } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingSdkClient, rejection } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
/** Every response body the SDK received in this file, errors included. */
const responseBodies: string[] = [];

/** The secrets sent in this file: none may come back in any response, nor reach Temporal. */
const SECRETS = {
  bearer: 'sk-bearer-4c1d0f9e8b7a',
  bearerRotated: 'sk-bearer-rotated-5d2e1a0f',
  access: 'oauth-access-3b2a1c0d9e8f',
  accessRotated: 'oauth-access-rotated-6e5d4c',
  refresh: 'oauth-refresh-7f6e5d4c3b2a',
  refreshRotated: 'oauth-refresh-rotated-8a7b6c',
  clientSecret: 'client-secret-9a8b7c6d5e4f',
  clientSecretRotated: 'client-secret-rotated-0b1c2d',
  refused: 'refused-token with-a-space',
};

beforeAll(async () => {
  harness = await startTestStack();
  client = recordingSdkClient(harness.stack.apiUrl, responseBodies);
});

afterAll(async () => {
  await harness?.stop();
});

/** Every string and byte array (as UTF-8) in `value`, joined: what a search for plaintext must cover. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value !== 'object' || value === null) return '';
  return Object.values(value).map(textOf).join('\n');
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe('vaults API through the official SDK', () => {
  it('create, retrieve, update (metadata patch), archive and delete a vault, in the SDK shape', async () => {
    const created = await client.beta.vaults.create({ display_name: 'Team tools', metadata: { team: 'a', tier: 'x' } });
    expect(created.id).toMatch(/^vlt_[0-9A-Za-z]{24}$/);
    expect(Object.keys(created).sort()).toEqual(
      ['archived_at', 'created_at', 'display_name', 'id', 'metadata', 'type', 'updated_at'].sort(),
    );
    expect(created).toMatchObject({ type: 'vault', display_name: 'Team tools', archived_at: null });
    expect(created.metadata).toEqual({ team: 'a', tier: 'x' });
    expect(await client.beta.vaults.retrieve(created.id)).toEqual(created);

    const unchanged = await client.beta.vaults.update(created.id, {});
    expect(unchanged).toEqual(created);
    const updated = await client.beta.vaults.update(created.id, {
      display_name: 'Team tools v2',
      metadata: { tier: null, owner: 'b' },
    });
    expect(updated).toMatchObject({ display_name: 'Team tools v2', metadata: { team: 'a', owner: 'b' } });
    expect(updated.metadata).not.toHaveProperty('tier');
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

    const archived = await client.beta.vaults.archive(created.id);
    expect(archived.archived_at).not.toBeNull();
    expect(await client.beta.vaults.archive(created.id)).toEqual(archived);
    const refused = await rejection(client.beta.vaults.update(created.id, { display_name: 'no' }));
    expect(refused).toBeInstanceOf(ConflictError);
    expect(await client.beta.vaults.retrieve(created.id)).toEqual(archived);

    expect(await client.beta.vaults.delete(created.id)).toEqual({ id: created.id, type: 'vault_deleted' });
    expect(await rejection(client.beta.vaults.retrieve(created.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.beta.vaults.delete(created.id))).toBeInstanceOf(NotFoundError);
  });

  it('list: pages newest first (for-await, hasNextPage, getNextPage); archived vaults only when asked', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push((await client.beta.vaults.create({ display_name: `paged ${index}` })).id);
    }
    const listed: string[] = [];
    for await (const vault of client.beta.vaults.list({ limit: 2 })) listed.push(vault.id);
    expect(listed.slice(0, 5)).toEqual([...ids].reverse());

    const first = await client.beta.vaults.list({ limit: 2 });
    expect(first.data.map((vault) => vault.id)).toEqual([ids[4], ids[3]]);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((vault) => vault.id)).toEqual([ids[2], ids[1]]);

    await client.beta.vaults.archive(ids[2]!);
    const active: string[] = [];
    for await (const vault of client.beta.vaults.list({ limit: 3 })) active.push(vault.id);
    expect(active).not.toContain(ids[2]);
    const all: string[] = [];
    for await (const vault of client.beta.vaults.list({ limit: 3, include_archived: true })) all.push(vault.id);
    expect(all).toContain(ids[2]);
  });

  it('refuses bad vault requests with a 400 naming the field, or a 404, and changes nothing', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'stays' });
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => client.beta.vaults.create({} as never), 'display_name'],
      [() => client.beta.vaults.create({ display_name: '' }), 'display_name'],
      [() => client.beta.vaults.create({ display_name: 'x'.repeat(256) }), 'display_name'],
      [() => client.beta.vaults.create({ display_name: 'x', colour: 'red' } as never), 'colour'],
      [() => client.beta.vaults.update(vault.id, { display_name: '' }), 'display_name'],
      [() => client.beta.vaults.update(vault.id, { metadata: { ['k'.repeat(65)]: 'v' } }), 'metadata'],
      [
        () =>
          client.beta.vaults.create({
            display_name: 'x',
            metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v'])),
          }),
        'metadata',
      ],
      [() => client.beta.vaults.retrieve('env_011CZkZaBF1tNoB5wlCeusgy'), 'vault_id'],
      [() => client.beta.vaults.list({ limit: 0 }), 'limit'],
    ];
    for (const [call, field] of cases) {
      const error = await rejection(call());
      expect(error, field).toBeInstanceOf(BadRequestError);
      expect(error.message).toContain(`${field}`);
    }
    expect(await rejection(client.beta.vaults.retrieve('vlt_011CZkZDLs7fYzm1hXNPeRjv'))).toBeInstanceOf(NotFoundError);
    expect(await client.beta.vaults.retrieve(vault.id)).toEqual(vault);
  });
});

describe('vault credentials API through the official SDK', () => {
  it('static_bearer: create, retrieve, update the token, archive, delete; no response carries the token', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'bearer vault' });
    const created = await client.beta.vaults.credentials.create(vault.id, {
      display_name: 'GitHub',
      metadata: { scope: 'repo' },
      auth: { type: 'static_bearer', token: SECRETS.bearer, mcp_server_url: 'https://mcp.github.example/mcp' },
    });
    expect(created.id).toMatch(/^vcrd_[0-9A-Za-z]{24}$/);
    expect(Object.keys(created).sort()).toEqual(
      ['archived_at', 'auth', 'created_at', 'display_name', 'id', 'metadata', 'type', 'updated_at', 'vault_id'].sort(),
    );
    expect(created).toMatchObject({
      type: 'vault_credential',
      vault_id: vault.id,
      display_name: 'GitHub',
      metadata: { scope: 'repo' },
      archived_at: null,
    });
    expect(created.auth).toEqual({ type: 'static_bearer', mcp_server_url: 'https://mcp.github.example/mcp' });
    expect(await client.beta.vaults.credentials.retrieve(created.id, { vault_id: vault.id })).toEqual(created);

    const rotated = await client.beta.vaults.credentials.update(created.id, {
      vault_id: vault.id,
      auth: { type: 'static_bearer', token: SECRETS.bearerRotated },
      display_name: null,
      metadata: { scope: null },
    });
    expect(rotated).toMatchObject({ display_name: null, metadata: {}, auth: created.auth });
    expect(Date.parse(rotated.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

    const archived = await client.beta.vaults.credentials.archive(created.id, { vault_id: vault.id });
    expect(archived.archived_at).not.toBeNull();
    const refused = await rejection(
      client.beta.vaults.credentials.update(created.id, { vault_id: vault.id, display_name: 'again' }),
    );
    expect(refused).toBeInstanceOf(ConflictError);

    // The server is free for a new active credential once the old one is archived.
    const replacement = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: SECRETS.bearer, mcp_server_url: 'https://mcp.github.example/mcp/' },
    });
    const duplicate = await rejection(
      client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', token: SECRETS.bearer, mcp_server_url: 'https://MCP.github.example/mcp' },
      }),
    );
    expect(duplicate).toBeInstanceOf(ConflictError);
    expect(duplicate.message).toContain('auth.mcp_server_url');

    expect(await client.beta.vaults.credentials.delete(replacement.id, { vault_id: vault.id })).toEqual({
      id: replacement.id,
      type: 'vault_credential_deleted',
    });
    const gone = await rejection(client.beta.vaults.credentials.retrieve(replacement.id, { vault_id: vault.id }));
    expect(gone).toBeInstanceOf(NotFoundError);
  });

  it('mcp_oauth: the response shows expires_at and the refresh settings, never a token or the client secret', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'oauth vault' });
    const expiresAt = inAnHour();
    const created = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'mcp_oauth',
        access_token: SECRETS.access,
        mcp_server_url: 'https://mcp.linear.example/sse',
        expires_at: expiresAt,
        refresh: {
          client_id: 'keel-client',
          refresh_token: SECRETS.refresh,
          token_endpoint: 'https://auth.linear.example/oauth/token',
          token_endpoint_auth: { type: 'client_secret_basic', client_secret: SECRETS.clientSecret },
          scope: 'read write',
        },
      },
    });
    expect(created.display_name).toBeNull();
    expect(created.auth).toEqual({
      type: 'mcp_oauth',
      mcp_server_url: 'https://mcp.linear.example/sse',
      expires_at: new Date(expiresAt).toISOString(),
      refresh: {
        client_id: 'keel-client',
        token_endpoint: 'https://auth.linear.example/oauth/token',
        token_endpoint_auth: { type: 'client_secret_basic' },
        resource: null,
        scope: 'read write',
      },
    });

    const nextExpiry = new Date(Date.now() + 7_200_000).toISOString();
    const updated = await client.beta.vaults.credentials.update(created.id, {
      vault_id: vault.id,
      auth: {
        type: 'mcp_oauth',
        access_token: SECRETS.accessRotated,
        expires_at: nextExpiry,
        refresh: {
          refresh_token: SECRETS.refreshRotated,
          scope: '',
          token_endpoint_auth: { type: 'client_secret_post', client_secret: SECRETS.clientSecretRotated },
        },
      },
    });
    expect(updated.auth).toEqual({
      ...created.auth,
      expires_at: nextExpiry,
      refresh: { ...(created.auth as { refresh: object }).refresh, scope: null },
    });

    const wrongType = await rejection(
      client.beta.vaults.credentials.update(created.id, {
        vault_id: vault.id,
        auth: { type: 'static_bearer', token: SECRETS.bearer },
      }),
    );
    expect(wrongType).toBeInstanceOf(BadRequestError);
    expect(wrongType.message).toContain('auth.type');

    const withoutRefresh = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: 'mcp_oauth', access_token: SECRETS.access, mcp_server_url: 'https://plain.example/mcp' },
    });
    expect(withoutRefresh.auth).toEqual({
      type: 'mcp_oauth',
      mcp_server_url: 'https://plain.example/mcp',
      expires_at: null,
      refresh: null,
    });
    const noRefresh = await rejection(
      client.beta.vaults.credentials.update(withoutRefresh.id, {
        vault_id: vault.id,
        auth: { type: 'mcp_oauth', refresh: { refresh_token: SECRETS.refresh } },
      }),
    );
    expect(noRefresh.message).toContain('auth.refresh');
    expect(await client.beta.vaults.credentials.retrieve(created.id, { vault_id: vault.id })).toEqual(updated);
  });

  it('refuses bad credentials with a 400 naming the field (never echoing a secret), or 404 / 409, and stores nothing', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'strict' });
    const bearer = (auth: object) =>
      client.beta.vaults.credentials.create(vault.id, { auth } as Parameters<
        typeof client.beta.vaults.credentials.create
      >[1]);
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => bearer({ type: 'basic_auth', token: SECRETS.refused }), 'auth.type'],
      [() => bearer({ type: 'static_bearer', mcp_server_url: 'https://x.example/mcp' }), 'auth.token'],
      [
        () => bearer({ type: 'static_bearer', token: SECRETS.refused, mcp_server_url: 'https://x.example/mcp' }),
        'auth.token',
      ],
      [
        () => bearer({ type: 'static_bearer', token: 'ok', mcp_server_url: 'ftp://x.example/mcp' }),
        'auth.mcp_server_url',
      ],
      [
        () => bearer({ type: 'static_bearer', token: 'ok', mcp_server_url: 'https://u:p@x.example' }),
        'auth.mcp_server_url',
      ],
      [() => bearer({ type: 'static_bearer', token: 'ok', mcp_server_url: 'https://x.example/mcp', extra: 1 }), 'auth'],
      [
        () =>
          bearer({
            type: 'mcp_oauth',
            access_token: 'ok',
            mcp_server_url: 'https://x.example/mcp',
            expires_at: '2020-01-01T00:00:00Z',
          }),
        'auth.expires_at',
      ],
      [
        () =>
          bearer({
            type: 'mcp_oauth',
            access_token: 'ok',
            mcp_server_url: 'https://x.example/mcp',
            refresh: {
              client_id: 'c',
              refresh_token: 'r',
              token_endpoint: 'https://x.example/token',
              token_endpoint_auth: { type: 'private_key_jwt' },
            },
          }),
        'auth.refresh.token_endpoint_auth.type',
      ],
      [
        () =>
          bearer({
            type: 'mcp_oauth',
            access_token: 'ok',
            mcp_server_url: 'https://x.example/mcp',
            refresh: {
              client_id: 'c',
              refresh_token: 'r',
              token_endpoint: 'https://x.example/token',
              token_endpoint_auth: { type: 'client_secret_basic' },
            },
          }),
        'auth.refresh.token_endpoint_auth.client_secret',
      ],
      [
        () =>
          client.beta.vaults.credentials.create(vault.id, {
            auth: { type: 'static_bearer', token: 'ok', mcp_server_url: 'https://x.example/mcp' },
            display_name: 'x'.repeat(256),
          }),
        'display_name',
      ],
      [() => client.beta.vaults.credentials.retrieve('vcrd_1', { vault_id: vault.id }), 'credential_id'],
      [() => client.beta.vaults.credentials.list('nope'), 'vault_id'],
    ];
    for (const [call, field] of cases) {
      const error = await rejection(call());
      expect(error, field).toBeInstanceOf(BadRequestError);
      expect(error.message).toContain(`${field}`);
      expect(error.message).not.toContain(SECRETS.refused);
    }
    expect((await client.beta.vaults.credentials.list(vault.id)).data).toEqual([]);

    const unknownVault = 'vlt_011CZkZDLs7fYzm1hXNPeRjv';
    const unknownCredential = 'vcrd_011CZkZEMt8gZan2iYPQfSkw';
    const notFound: Array<() => Promise<unknown>> = [
      () =>
        client.beta.vaults.credentials.create(unknownVault, {
          auth: { type: 'static_bearer', token: 'ok', mcp_server_url: 'https://x.example/mcp' },
        }),
      () => client.beta.vaults.credentials.list(unknownVault),
      () => client.beta.vaults.credentials.retrieve(unknownCredential, { vault_id: vault.id }),
      () => client.beta.vaults.credentials.delete(unknownCredential, { vault_id: vault.id }),
      () => client.beta.vaults.credentials.archive(unknownCredential, { vault_id: vault.id }),
    ];
    for (const call of notFound) expect(await rejection(call())).toBeInstanceOf(NotFoundError);

    // A credential is reached through its own vault only.
    const other = await client.beta.vaults.create({ display_name: 'other' });
    const held = await client.beta.vaults.credentials.create(other.id, {
      auth: { type: 'static_bearer', token: 'ok', mcp_server_url: 'https://x.example/mcp' },
    });
    const crossed = await rejection(client.beta.vaults.credentials.retrieve(held.id, { vault_id: vault.id }));
    expect(crossed).toBeInstanceOf(NotFoundError);

    await client.beta.vaults.archive(other.id);
    const intoArchived = await rejection(
      client.beta.vaults.credentials.create(other.id, {
        auth: { type: 'static_bearer', token: 'ok', mcp_server_url: 'https://y.example/mcp' },
      }),
    );
    expect(intoArchived).toBeInstanceOf(ConflictError);
    expect((await client.beta.vaults.credentials.list(other.id)).data.map((credential) => credential.id)).toEqual([
      held.id,
    ]);
  });

  it('list: pages newest first; archived credentials only when asked; deleting the vault deletes them', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'many' });
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const credential = await client.beta.vaults.credentials.create(vault.id, {
        auth: { type: 'static_bearer', token: SECRETS.bearer, mcp_server_url: `https://s${index}.example/mcp` },
      });
      ids.push(credential.id);
    }
    const listed: BetaManagedAgentsCredential[] = [];
    for await (const credential of client.beta.vaults.credentials.list(vault.id, { limit: 2 })) listed.push(credential);
    expect(listed.map((credential) => credential.id)).toEqual([...ids].reverse());
    const first = await client.beta.vaults.credentials.list(vault.id, { limit: 2 });
    expect(first.hasNextPage()).toBe(true);
    const last = await (await first.getNextPage()).getNextPage();
    expect(last.data.map((credential) => credential.id)).toEqual([ids[0]]);
    expect(last.hasNextPage()).toBe(false);

    await client.beta.vaults.credentials.archive(ids[1]!, { vault_id: vault.id });
    const active = (await client.beta.vaults.credentials.list(vault.id, { limit: 10 })).data;
    expect(active.map((credential) => credential.id)).not.toContain(ids[1]);
    const all = (await client.beta.vaults.credentials.list(vault.id, { limit: 10, include_archived: true })).data;
    expect(all.map((credential) => credential.id)).toContain(ids[1]);

    await client.beta.vaults.delete(vault.id);
    const orphan = await rejection(client.beta.vaults.credentials.retrieve(ids[0]!, { vault_id: vault.id }));
    expect(orphan).toBeInstanceOf(NotFoundError);
  });
});

describe('sessions with vault_ids', () => {
  it('a session created with vault_ids shows them and passes them to the Workflow; bad ids create no session', async () => {
    const agent = await client.beta.agents.create({ name: 'vault user', model: 'scripted-model' });
    const environment = await client.beta.environments.create({ name: 'vault env' });
    const first = await client.beta.vaults.create({ display_name: 'session vault 1' });
    const second = await client.beta.vaults.create({ display_name: 'session vault 2' });
    await client.beta.vaults.credentials.create(first.id, {
      auth: { type: 'static_bearer', token: SECRETS.bearer, mcp_server_url: 'https://session.example/mcp' },
    });

    const archived = await client.beta.vaults.create({ display_name: 'session vault archived' });
    await client.beta.vaults.archive(archived.id);

    const count = async () => (await harness.stack.temporal.workflow.count("WorkflowType = 'sessionWorkflow'")).count;
    const before = await count();
    const refusals: Array<[string[], typeof NotFoundError | typeof BadRequestError, string]> = [
      [[first.id, 'vlt_011CZkZDLs7fYzm1hXNPeRjv'], NotFoundError, 'vault_ids[1]'],
      [[first.id, archived.id], BadRequestError, 'vault_ids[1]'],
      [['env_011CZkZaBF1tNoB5wlCeusgy'], BadRequestError, 'vault_ids[0]'],
      [[first.id, first.id], BadRequestError, 'vault_ids[1]'],
    ];
    for (const [vaultIds, errorClass, field] of refusals) {
      const error = await rejection(
        client.beta.sessions.create({ agent: agent.id, environment_id: environment.id, vault_ids: vaultIds }),
      );
      expect(error, field).toBeInstanceOf(errorClass);
      expect(error.message).toContain(field);
    }

    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      vault_ids: [first.id, second.id],
    });
    expect(session.vault_ids).toEqual([first.id, second.id]);
    expect((await client.beta.sessions.retrieve(session.id)).vault_ids).toEqual([first.id, second.id]);
    const plain = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    expect(plain.vault_ids).toEqual([]);

    const history = await harness.stack.temporal.workflow.getHandle(session.id).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString()) as { vaultIds?: string[] };
    expect(input.vaultIds).toEqual([first.id, second.id]);
    const historyText = textOf(history);
    expect(historyText).toContain(first.id);
    for (const secret of Object.values(SECRETS)) expect(historyText).not.toContain(secret);

    // Visibility is eventually consistent: wait for the two sessions to show, then check that nothing else was made.
    const deadline = Date.now() + 15_000;
    while ((await count()) < before + 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await count()).toBe(before + 2);

    await client.beta.sessions.delete(session.id);
    await client.beta.sessions.delete(plain.id);
  });
});

describe('secrets in responses', () => {
  it('no response body this file received carries any secret it sent', () => {
    expect(responseBodies.length).toBeGreaterThan(50);
    for (const body of responseBodies) {
      for (const secret of Object.values(SECRETS)) expect(body).not.toContain(secret);
    }
  });
});
