import type Anthropic from '@anthropic-ai/sdk';
import { AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import {
  BetaEnvironmentArchivedError,
  BetaInvalidMetadataError,
} from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { rejection, sdkClient } from './support/sdk';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

const noPackages = { type: 'packages', apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };

describe('environments API through the official SDK', () => {
  it('create: an environment that says nothing gets no network and no packages', async () => {
    const created = await client.beta.environments.create({ name: 'bare' });
    expect(created.id).toMatch(/^env_[0-9A-Za-z]{24}$/);
    expect(created).toMatchObject({
      type: 'environment',
      name: 'bare',
      description: null,
      metadata: {},
      scope: 'organization',
      archived_at: null,
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false },
        packages: noPackages,
      },
    });
    expect(await client.beta.environments.retrieve(created.id)).toEqual(created);
  });

  it('create and update: networking and packages are stored, and omitted fields keep their value', async () => {
    const created = await client.beta.environments.create({
      name: 'data science',
      description: 'Python with pandas',
      metadata: { team: 'data', tier: 'gold' },
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: ['PyPI.org', '*.example.com'], allow_package_managers: true },
        packages: { pip: ['pandas==2.2.3', 'requests'], apt: ['jq'] },
      },
    });
    expect(created.config).toEqual({
      type: 'cloud',
      networking: {
        type: 'limited',
        allowed_hosts: ['pypi.org', '*.example.com'],
        allow_mcp_servers: false,
        allow_package_managers: true,
      },
      packages: { ...noPackages, apt: ['jq'], pip: ['pandas==2.2.3', 'requests'] },
    });

    const updated = await client.beta.environments.update(created.id, {
      name: 'data science 2',
      metadata: { tier: null, owner: 'ana' },
      config: {
        type: 'cloud',
        networking: { type: 'limited', allowed_hosts: ['files.example.com'] },
        packages: { npm: ['zx'] },
      },
    });
    expect(updated).toMatchObject({
      id: created.id,
      name: 'data science 2',
      description: 'Python with pandas',
      metadata: { team: 'data', owner: 'ana' },
      config: {
        networking: { type: 'limited', allowed_hosts: ['files.example.com'], allow_package_managers: true },
        packages: { apt: ['jq'], pip: ['pandas==2.2.3', 'requests'], npm: ['zx'] },
      },
    });
    expect(updated.created_at).toBe(created.created_at);
    expect(updated.updated_at >= created.updated_at).toBe(true);

    const opened = await client.beta.environments.update(created.id, {
      description: null,
      config: { type: 'cloud', networking: { type: 'unrestricted' }, packages: null },
    });
    expect(opened).toMatchObject({
      description: null,
      config: { networking: { type: 'unrestricted' }, packages: noPackages },
    });
    expect(await client.beta.environments.retrieve(created.id)).toEqual(opened);
  });

  it('list: pages through environments newest first with for-await and hasNextPage', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push((await client.beta.environments.create({ name: `paged ${index}` })).id);
    }
    const listed: string[] = [];
    for await (const environment of client.beta.environments.list({ limit: 2 })) listed.push(environment.id);
    expect(listed.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    expect(new Set(listed).size).toBe(listed.length);

    const first = await client.beta.environments.list({ limit: 2 });
    expect(first.data.map((environment) => environment.id)).toEqual([ids[4], ids[3]]);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((environment) => environment.id)).toEqual([ids[2], ids[1]]);
    let pages = 0;
    for await (const page of first.iterPages()) {
      pages += 1;
      if (!page.hasNextPage()) expect(page.next_page).toBeNull();
    }
    expect(pages).toBe(Math.ceil(listed.length / 2));
  });

  it('archive: the environment stays readable, leaves the default list and refuses updates', async () => {
    const created = await client.beta.environments.create({ name: 'retired' });
    const archived = await client.beta.environments.archive(created.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await client.beta.environments.archive(created.id)).archived_at).toBe(archived.archived_at);

    const active: string[] = [];
    for await (const environment of client.beta.environments.list({ limit: 100 })) active.push(environment.id);
    expect(active).not.toContain(created.id);
    const all: string[] = [];
    for await (const environment of client.beta.environments.list({ limit: 100, include_archived: true })) {
      all.push(environment.id);
    }
    expect(all).toContain(created.id);

    const refused = await rejection(client.beta.environments.update(created.id, { name: 'revived' }));
    expect(refused).toBeInstanceOf(BetaEnvironmentArchivedError);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BetaEnvironmentArchivedError).errorCode).toBe('environment_archived');
    expect((await client.beta.environments.retrieve(created.id)).name).toBe('retired');
  });

  it('delete: answers environment_deleted, then the id is unknown', async () => {
    const created = await client.beta.environments.create({ name: 'short lived' });
    expect(await client.beta.environments.delete(created.id)).toEqual({
      id: created.id,
      type: 'environment_deleted',
    });
    expect(await rejection(client.beta.environments.retrieve(created.id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.beta.environments.delete(created.id))).toBeInstanceOf(NotFoundError);

    const archived = await client.beta.environments.create({ name: 'archived then deleted' });
    await client.beta.environments.archive(archived.id);
    expect((await client.beta.environments.delete(archived.id)).type).toBe('environment_deleted');
  });

  it('errors: bad config, metadata, ids and keys answer 4xx naming the field, and nothing is stored', async () => {
    const before = (await client.beta.environments.list({ limit: 100, include_archived: true })).data.length;

    const unknownType = await rejection(
      client.beta.environments.create({ name: 'x', config: { type: 'on_prem' } as unknown as { type: 'cloud' } }),
    );
    expect(unknownType).toBeInstanceOf(BadRequestError);
    expect(unknownType.message).toContain('config');
    expect(unknownType.message).toContain('cloud or self_hosted');

    const noRegistries = await rejection(
      client.beta.environments.create({
        name: 'x',
        config: { type: 'cloud', networking: { type: 'limited' }, packages: { pip: ['requests'] } },
      }),
    );
    expect(noRegistries.message).toContain('config.networking.allow_package_managers');

    const badHost = await rejection(
      client.beta.environments.create({
        name: 'x',
        config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['https://pypi.org/simple'] } },
      }),
    );
    expect(badHost.message).toContain('config.networking.allowed_hosts[0]');

    const injection = await rejection(
      client.beta.environments.create({
        name: 'x',
        config: { type: 'cloud', networking: { type: 'unrestricted' }, packages: { apt: ['--allow-unauthenticated'] } },
      }),
    );
    expect(injection.message).toContain('config.packages.apt[0]');

    const cargo = await rejection(
      client.beta.environments.create({ name: 'x', config: { type: 'cloud', packages: { cargo: ['ripgrep'] } } }),
    );
    expect(cargo.message).toContain('config.packages.cargo');

    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, 'value']));
    const tooMuch = await rejection(client.beta.environments.create({ name: 'x', metadata }));
    expect(tooMuch).toBeInstanceOf(BetaInvalidMetadataError);
    expect(tooMuch.message).toContain('metadata');

    const missingName = await rejection(client.beta.environments.create({} as never));
    expect(missingName).toBeInstanceOf(BadRequestError);
    expect(missingName.message).toContain('name');

    const account = await rejection(client.beta.environments.create({ name: 'x', scope: 'account' }));
    expect(account.message).toContain('scope');

    expect((await client.beta.environments.list({ limit: 100, include_archived: true })).data).toHaveLength(before);

    const wrongKind = await rejection(client.beta.environments.retrieve('agent_011CZkYpogX7uDKUyvBTophP'));
    expect(wrongKind).toBeInstanceOf(BadRequestError);
    expect(wrongKind.message).toContain('environment_id');
    expect(await rejection(client.beta.environments.delete('env_bad!'))).toBeInstanceOf(BadRequestError);
    expect(await rejection(client.beta.environments.retrieve('env_000000000000000000000000'))).toBeInstanceOf(
      NotFoundError,
    );
    expect(
      await rejection(client.beta.environments.update('env_000000000000000000000000', { name: 'ghost' })),
    ).toBeInstanceOf(NotFoundError);

    const stranger = sdkClient(harness.stack.apiUrl, 'not-the-key');
    expect(await rejection(stranger.beta.environments.create({ name: 'x' }))).toBeInstanceOf(AuthenticationError);
    const anonymous = await fetch(`${harness.stack.apiUrl}/v1/environments`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });
});
