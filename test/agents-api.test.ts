import type Anthropic from '@anthropic-ai/sdk';
import { AuthenticationError, BadRequestError, ConflictError, NotFoundError } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAgentSnapshot } from '../server/agents/agent-snapshot';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { rejection, sdkClient } from './support/sdk';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack();
  // No retries: a 409 or 404 must surface at once, as the test expects it.
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

const coder = {
  name: 'coder',
  model: 'scripted-model',
  system: 'You write code.',
  tools: [
    {
      type: 'agent_toolset_20260401' as const,
      configs: [
        { name: 'bash' as const, enabled: false },
        { name: 'web_search' as const, allowed_domains: ['docs.example.com'] },
      ],
    },
  ],
};

describe('agents API through the official SDK', () => {
  it('create and retrieve: returns the hosted agent object at version 1 with resolved tools', async () => {
    const created = await client.beta.agents.create({ ...coder, metadata: { team: 'platform' } });
    expect(created.id).toMatch(/^agent_[0-9A-Za-z]{24}$/);
    expect(created).toMatchObject({
      type: 'agent',
      version: 1,
      name: 'coder',
      description: null,
      model: { id: 'scripted-model' },
      system: 'You write code.',
      metadata: { team: 'platform' },
      mcp_servers: [],
      skills: [],
      multiagent: null,
      execution_identity: { type: 'service_account' },
      archived_at: null,
      tools: [
        {
          type: 'agent_toolset_20260401',
          default_config: { enabled: true, permission_policy: { type: 'always_allow' } },
          configs: [
            { name: 'bash', type: 'bash', enabled: false, permission_policy: { type: 'always_allow' } },
            { name: 'web_search', type: 'web_search', enabled: true, allowed_domains: ['docs.example.com'] },
          ],
        },
      ],
    });
    expect(created.created_at).toBe(created.updated_at);
    expect(await client.beta.agents.retrieve(created.id)).toEqual(created);

    const snapshot = toAgentSnapshot((await harness.stack.store.agents.get(created.id))!);
    expect(snapshot).toEqual({
      id: created.id,
      version: 1,
      name: 'coder',
      model: 'scripted-model',
      system: 'You write code.',
      maxTokens: 4096,
      tools: ['read', 'write', 'edit', 'glob', 'grep', 'web_fetch', 'web_search'],
      permissions: {
        read: 'always_allow',
        write: 'always_allow',
        edit: 'always_allow',
        glob: 'always_allow',
        grep: 'always_allow',
        web_fetch: 'always_allow',
        web_search: 'always_allow',
      },
      webFetch: {},
      webSearch: { allowedDomains: ['docs.example.com'] },
      customTools: [],
      mcpToolsets: [],
    });
  });

  it('create: stores MCP toolsets, custom tools and a model_config, and refuses an unused MCP server', async () => {
    const created = await client.beta.agents.create({
      name: 'integrations',
      model: { id: 'scripted-model', effort: 'high', speed: 'standard' },
      mcp_servers: [{ type: 'url', name: 'tracker', url: 'https://mcp.example.com/sse' }],
      tools: [
        { type: 'mcp_toolset', mcp_server_name: 'tracker', configs: [{ name: 'create_issue', enabled: false }] },
        {
          type: 'custom',
          name: 'lookup_customer',
          description: 'Finds a customer by email.',
          input_schema: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
        },
      ],
    });
    expect(created.model).toEqual({ id: 'scripted-model', effort: { type: 'high' }, speed: 'standard' });
    expect(created.tools).toEqual([
      {
        type: 'mcp_toolset',
        mcp_server_name: 'tracker',
        default_config: { enabled: true, permission_policy: { type: 'always_ask' } },
        configs: [{ name: 'create_issue', enabled: false, permission_policy: { type: 'always_ask' } }],
      },
      {
        type: 'custom',
        name: 'lookup_customer',
        description: 'Finds a customer by email.',
        input_schema: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
      },
    ]);
    expect(toAgentSnapshot((await harness.stack.store.agents.get(created.id))!).tools).toEqual([]);

    const unused = await rejection(
      client.beta.agents.create({
        name: 'unused server',
        model: 'scripted-model',
        mcp_servers: [{ type: 'url', name: 'tracker', url: 'https://mcp.example.com/sse' }],
      }),
    );
    expect(unused).toBeInstanceOf(BadRequestError);
    expect(unused.message).toContain('mcp_servers[0]');
  });

  it('update: each change is a new version, older versions stay readable, and a no-op keeps the version', async () => {
    const created = await client.beta.agents.create(coder);
    const second = await client.beta.agents.update(created.id, {
      version: 1,
      system: 'You review code.',
      metadata: { stage: 'review' },
    });
    expect(second).toMatchObject({ id: created.id, version: 2, system: 'You review code.', name: 'coder' });
    expect(second.metadata).toEqual({ stage: 'review' });
    expect(second.created_at).toBe(created.created_at);

    const third = await client.beta.agents.update(created.id, { metadata: { stage: null, owner: 'ana' }, system: '' });
    expect(third).toMatchObject({ version: 3, system: null, metadata: { owner: 'ana' } });

    const same = await client.beta.agents.update(created.id, { version: 3, name: 'coder' });
    expect(same.version).toBe(3);
    expect(same.updated_at).toBe(third.updated_at);

    const first = await client.beta.agents.retrieve(created.id, { version: 1 });
    expect(first).toMatchObject({ version: 1, system: 'You write code.', metadata: {} });
    expect((await client.beta.agents.retrieve(created.id, { version: 2 })).system).toBe('You review code.');
    expect(await rejection(client.beta.agents.retrieve(created.id, { version: 9 }))).toBeInstanceOf(NotFoundError);

    const versions: BetaManagedAgentsAgent[] = [];
    for await (const version of client.beta.agents.versions.list(created.id, { limit: 2 })) versions.push(version);
    expect(versions.map((version) => version.version)).toEqual([3, 2, 1]);
    expect(versions.every((version) => version.id === created.id)).toBe(true);
  });

  it('update: a stale version is refused with 409 and changes nothing', async () => {
    const created = await client.beta.agents.create(coder);
    await client.beta.agents.update(created.id, { version: 1, description: 'first editor wins' });

    const conflict = await rejection(client.beta.agents.update(created.id, { version: 1, description: 'second' }));
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).status).toBe(409);
    expect(conflict.message).toContain('version');

    const latest = await client.beta.agents.retrieve(created.id);
    expect(latest).toMatchObject({ version: 2, description: 'first editor wins' });
    const page = await client.beta.agents.versions.list(created.id);
    expect(page.data.map((version) => version.version)).toEqual([2, 1]);
  });

  it('list: pages through every agent newest first with for-await and hasNextPage', async () => {
    const since = new Date().toISOString();
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push((await client.beta.agents.create({ name: `paged ${index}`, model: 'scripted-model' })).id);
    }

    const listed: string[] = [];
    for await (const agent of client.beta.agents.list({ limit: 2, 'created_at[gte]': since })) listed.push(agent.id);
    expect(listed).toEqual([...ids].reverse());

    const first = await client.beta.agents.list({ limit: 2, 'created_at[gte]': since });
    expect(first.data).toHaveLength(2);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map((agent) => agent.id)).toEqual([ids[2], ids[1]]);
    const third = await second.getNextPage();
    expect(third.data.map((agent) => agent.id)).toEqual([ids[0]]);
    expect(third.hasNextPage()).toBe(false);

    const before = await client.beta.agents.list({ 'created_at[lte]': since, limit: 100 });
    expect(before.data.some((agent) => ids.includes(agent.id))).toBe(false);
  });

  it('archive: the agent stays readable, leaves the default list and refuses updates with 409', async () => {
    const since = new Date().toISOString();
    const created = await client.beta.agents.create({ ...coder, name: 'to archive' });
    const archived = await client.beta.agents.archive(created.id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.version).toBe(1);
    expect((await client.beta.agents.archive(created.id)).archived_at).toBe(archived.archived_at);
    expect((await client.beta.agents.retrieve(created.id)).archived_at).toBe(archived.archived_at);

    const active = await client.beta.agents.list({ 'created_at[gte]': since });
    expect(active.data.map((agent) => agent.id)).not.toContain(created.id);
    const all = await client.beta.agents.list({ 'created_at[gte]': since, include_archived: true });
    expect(all.data.map((agent) => agent.id)).toContain(created.id);

    const refused = await rejection(client.beta.agents.update(created.id, { name: 'revived' }));
    expect(refused).toBeInstanceOf(ConflictError);
    expect((await client.beta.agents.retrieve(created.id)).name).toBe('to archive');
  });

  it('errors: unknown id, wrong id kind, missing field, bad tool and missing key have the SDK error classes', async () => {
    const unknown = await rejection(client.beta.agents.retrieve('agent_000000000000000000000000'));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.beta.agents.archive('agent_000000000000000000000000'))).toBeInstanceOf(NotFoundError);

    const wrongKind = await rejection(client.beta.agents.retrieve('env_011CZkZ9X2dpNyB7HsEFoRfW'));
    expect(wrongKind).toBeInstanceOf(BadRequestError);
    expect(wrongKind.message).toContain('agent_id');
    const wrongVersions = await rejection(client.beta.agents.versions.list('sesn_abcdefghijkl'));
    expect(wrongVersions).toBeInstanceOf(BadRequestError);

    const missingName = await rejection(client.beta.agents.create({ model: 'scripted-model' } as never));
    expect(missingName).toBeInstanceOf(BadRequestError);
    expect(missingName.message).toContain('name');

    const badTool = await rejection(
      client.beta.agents.create({ name: 'bad', model: 'scripted-model', tools: [{ type: 'computer' } as never] }),
    );
    expect(badTool).toBeInstanceOf(BadRequestError);
    expect(badTool.message).toContain('tools[0].type');

    const clash = await rejection(
      client.beta.agents.create({
        name: 'clash',
        model: 'scripted-model',
        tools: [
          { type: 'agent_toolset_20260401' },
          { type: 'custom', name: 'bash', description: 'Shadows bash.', input_schema: { type: 'object' } },
        ],
      }),
    );
    expect(clash.message).toContain('tools[1].name');

    const unknownField = await rejection(
      client.beta.agents.create({ name: 'extra', model: 'scripted-model', temperature: 1 } as never),
    );
    expect(unknownField.message).toContain('temperature');

    // A roster entry that is not an agent id is named in the 400 (test/multiagent-agents.test.ts has the rest).
    const multiagent = await rejection(
      client.beta.agents.update('agent_000000000000000000000000', {
        multiagent: { type: 'coordinator', agents: ['agent_x'] },
      }),
    );
    expect(multiagent).toBeInstanceOf(BadRequestError);
    expect(multiagent.message).toContain('multiagent.agents[0]');

    const stranger = sdkClient(harness.stack.apiUrl, 'not-the-key');
    expect(await rejection(stranger.beta.agents.list())).toBeInstanceOf(AuthenticationError);
    const anonymous = await fetch(`${harness.stack.apiUrl}/v1/agents`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});
