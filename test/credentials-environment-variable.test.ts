import type Anthropic from '@anthropic-ai/sdk';
import { BadRequestError, ConflictError, NotFoundError } from '@anthropic-ai/sdk';
import type { CredentialCreateParams } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingSdkClient, rejection } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
/** Every response body the SDK received in this file, errors included. */
const responseBodies: string[] = [];

/** The secret values sent in this file: none may come back in any response. */
const SECRETS = {
  first: 'env-secret-1f2e3d4c5b6a',
  rotated: 'env-secret-rotated-9a8b7c',
  refused: 'env-secret-refused-0d1e2f',
};

beforeAll(async () => {
  harness = await startTestStack();
  client = recordingSdkClient(harness.stack.apiUrl, responseBodies);
});

afterAll(async () => {
  await harness?.stop();
});

const KEYS = ['archived_at', 'auth', 'created_at', 'display_name', 'id', 'metadata', 'type', 'updated_at', 'vault_id'];

describe('environment_variable vault credentials through the official SDK', () => {
  it('create, retrieve, update, list, archive and delete, in the BetaManagedAgentsEnvironmentVariableAuthResponse shape', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'env vault' });
    const created = await client.beta.vaults.credentials.create(vault.id, {
      display_name: 'Service key',
      metadata: { team: 'a' },
      auth: {
        type: 'environment_variable',
        secret_name: 'SERVICE_API_KEY',
        secret_value: SECRETS.first,
        networking: { type: 'limited', allowed_hosts: ['API.example.com', '*.example.org', '192.0.2.1'] },
      },
    });
    expect(created.id).toMatch(/^vcrd_[0-9A-Za-z]{24}$/);
    expect(Object.keys(created).sort()).toEqual([...KEYS].sort());
    expect(created).toMatchObject({ type: 'vault_credential', vault_id: vault.id, display_name: 'Service key' });
    // Exactly the response type's fields: the secret never, the injection location defaulting to headers only.
    expect(created.auth).toEqual({
      type: 'environment_variable',
      secret_name: 'SERVICE_API_KEY',
      networking: { type: 'limited', allowed_hosts: ['api.example.com', '*.example.org', '192.0.2.1'] },
      injection_location: { header: true, body: false },
    });
    expect(await client.beta.vaults.credentials.retrieve(created.id, { vault_id: vault.id })).toEqual(created);

    // Update: a new secret, networking replaced as a whole, one location changed and the other kept.
    const updated = await client.beta.vaults.credentials.update(created.id, {
      vault_id: vault.id,
      auth: {
        type: 'environment_variable',
        secret_value: SECRETS.rotated,
        networking: { type: 'unrestricted' },
        injection_location: { body: true },
      },
    });
    expect(updated.auth).toEqual({
      type: 'environment_variable',
      secret_name: 'SERVICE_API_KEY',
      networking: { type: 'unrestricted' },
      injection_location: { header: true, body: true },
    });
    // `networking: null` and an empty update keep what is stored.
    const kept = await client.beta.vaults.credentials.update(created.id, {
      vault_id: vault.id,
      auth: { type: 'environment_variable', networking: null, secret_value: null },
    });
    expect(kept.auth).toEqual(updated.auth);

    const second = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'OTHER',
        secret_value: SECRETS.first,
        networking: { type: 'unrestricted' },
        injection_location: { header: false, body: true },
      },
    });
    expect(second.auth).toMatchObject({ injection_location: { header: false, body: true } });
    const listed = [];
    for await (const credential of client.beta.vaults.credentials.list(vault.id)) listed.push(credential);
    expect(listed.map((credential) => credential.id)).toEqual([second.id, created.id]);
    expect(listed[1]).toEqual(kept);

    // One active credential per secret_name in a vault: 409; another vault, or after archiving, is free.
    const duplicate = await rejection(
      client.beta.vaults.credentials.create(vault.id, {
        auth: {
          type: 'environment_variable',
          secret_name: 'SERVICE_API_KEY',
          secret_value: SECRETS.refused,
          networking: { type: 'unrestricted' },
        },
      }),
    );
    expect(duplicate).toBeInstanceOf(ConflictError);
    expect(duplicate.message).toContain('auth.secret_name');
    const archived = await client.beta.vaults.credentials.archive(created.id, { vault_id: vault.id });
    expect(archived.archived_at).not.toBeNull();
    expect(archived.auth).toEqual(kept.auth);
    const again = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'SERVICE_API_KEY',
        secret_value: SECRETS.first,
        networking: { type: 'unrestricted' },
      },
    });
    const refused = await rejection(
      client.beta.vaults.credentials.update(created.id, {
        vault_id: vault.id,
        auth: { type: 'environment_variable', secret_value: SECRETS.refused },
      }),
    );
    expect(refused).toBeInstanceOf(ConflictError);

    expect(await client.beta.vaults.credentials.delete(again.id, { vault_id: vault.id })).toEqual({
      id: again.id,
      type: 'vault_credential_deleted',
    });
    expect(await rejection(client.beta.vaults.credentials.retrieve(again.id, { vault_id: vault.id }))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('refuses bad environment_variable credentials with a 400 naming the field, never echoing the secret', async () => {
    const vault = await client.beta.vaults.create({ display_name: 'strict env' });
    const base = {
      type: 'environment_variable',
      secret_name: 'GOOD_NAME',
      secret_value: SECRETS.refused,
      networking: { type: 'unrestricted' },
    };
    const create = (auth: object) =>
      client.beta.vaults.credentials.create(vault.id, { auth } as CredentialCreateParams);
    const cases: Array<[object, string]> = [
      [{ ...base, secret_name: '1BAD' }, 'auth.secret_name'],
      [{ ...base, secret_name: 'HAS-DASH' }, 'auth.secret_name'],
      [{ ...base, secret_name: '' }, 'auth.secret_name'],
      [{ ...base, secret_name: 'https_proxy' }, 'auth.secret_name'],
      [{ ...base, secret_name: 'KEEL_TOKEN' }, 'auth.secret_name'],
      [{ ...base, secret_value: '' }, 'auth.secret_value'],
      [{ ...base, secret_value: `${SECRETS.refused}\r\nX-Injected: 1` }, 'auth.secret_value'],
      [{ ...base, secret_value: undefined }, 'auth.secret_value'],
      [{ ...base, networking: undefined }, 'auth.networking'],
      [{ ...base, networking: { type: 'open' } }, 'auth.networking'],
      [{ ...base, networking: { type: 'limited', allowed_hosts: [] } }, 'auth.networking.allowed_hosts'],
      [{ ...base, networking: { type: 'limited', allowed_hosts: ['https://api.example.com'] } }, 'allowed_hosts'],
      [{ ...base, networking: { type: 'limited', allowed_hosts: ['api.example.com:443'] } }, 'allowed_hosts'],
      [{ ...base, networking: { type: 'limited', allowed_hosts: ['api.example.com/v1'] } }, 'allowed_hosts'],
      [{ ...base, networking: { type: 'limited', allowed_hosts: ['::1'] } }, 'allowed_hosts'],
      [
        { ...base, networking: { type: 'limited', allowed_hosts: Array.from({ length: 17 }, (_, i) => `h${i}.io`) } },
        'auth.networking.allowed_hosts',
      ],
      [{ ...base, injection_location: { header: false } }, 'auth.injection_location'],
      [{ ...base, injection_location: { query: true } }, 'auth.injection_location'],
      [{ ...base, mcp_server_url: 'https://x.example/mcp' }, 'auth'],
    ];
    for (const [auth, field] of cases) {
      const error = await rejection(create(auth));
      expect(error, `${JSON.stringify(auth)}`).toBeInstanceOf(BadRequestError);
      expect(error.message).toContain(field);
      expect(error.message).not.toContain(SECRETS.refused);
    }

    const created = await create(base);
    const update = (auth: object) =>
      client.beta.vaults.credentials.update(created.id, { vault_id: vault.id, auth } as Parameters<
        typeof client.beta.vaults.credentials.update
      >[1]);
    const updateCases: Array<[object, string]> = [
      [{ type: 'environment_variable', secret_name: 'RENAMED' }, 'auth.secret_name'],
      [{ type: 'environment_variable', injection_location: { header: false } }, 'auth.injection_location'],
      [{ type: 'static_bearer', token: 'x' }, 'auth.type'],
      [{ type: 'environment_variable', networking: { type: 'limited', allowed_hosts: ['*'] } }, 'allowed_hosts'],
    ];
    for (const [auth, field] of updateCases) {
      const error = await rejection(update(auth));
      expect(error, `${JSON.stringify(auth)}`).toBeInstanceOf(BadRequestError);
      expect(error.message).toContain(field);
    }
    // The same secret_name is no change, and is accepted.
    expect((await update({ type: 'environment_variable', secret_name: 'GOOD_NAME' })).auth).toEqual(created.auth);
    expect(await client.beta.vaults.credentials.retrieve(created.id, { vault_id: vault.id })).toEqual(created);
  });

  it('no response body this file received carries any secret value it sent', () => {
    expect(responseBodies.length).toBeGreaterThan(10);
    for (const body of responseBodies) {
      for (const secret of Object.values(SECRETS)) expect(body).not.toContain(secret);
    }
  });
});
