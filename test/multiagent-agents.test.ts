import type Anthropic from '@anthropic-ai/sdk';
import { ConflictError } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallableAgent } from '../common/multiagent';
import type { SessionWorkflowInput } from '../common/session';
import { toAgentSnapshot } from '../server/agents/agent-snapshot';
import { rejection, sdkClient } from './support/sdk';
import { allowAll, badRequest, createNamedAgent, sessionWorkflowInput } from './support/agent-checks';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  environmentId = (await client.beta.environments.create({ name: 'multiagent env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

/** Saves an agent `name` with tools that run without asking. */
function worker(
  name: string,
  extra: Partial<Anthropic.Beta.Agents.AgentCreateParams> = {},
): Promise<BetaManagedAgentsAgent> {
  return createNamedAgent(client, name, extra);
}

/** The reference the stored roster holds for `agent` at `version`. */
function reference(agent: { id: string }, version: number): { type: 'agent'; id: string; version: number } {
  return { type: 'agent', id: agent.id, version };
}

/** The input the session's Workflow was started with. */
function workflowInput(sessionId: string): Promise<SessionWorkflowInput> {
  return sessionWorkflowInput(harness.stack.temporal, sessionId);
}

describe('agents with a coordinator roster', () => {
  it('create, retrieve and update: resolves ids, versioned references and self to concrete versions', async () => {
    const researcher = await worker('researcher');
    const writer = await worker('writer');
    const writerV2 = await client.beta.agents.update(writer.id, { version: 1, system: 'You write better.' });
    expect(writerV2.version).toBe(2);

    const coordinator = await client.beta.agents.create({
      name: 'lead',
      model: 'scripted-model',
      tools: [allowAll],
      multiagent: {
        type: 'coordinator',
        agents: [researcher.id, { type: 'agent', id: writer.id, version: 1 }, { type: 'self' }],
      },
    });
    expect(coordinator.version).toBe(1);
    expect(coordinator.multiagent).toEqual({
      type: 'coordinator',
      agents: [reference(researcher, 1), reference(writer, 1), reference(coordinator, 1)],
    });
    expect(await client.beta.agents.retrieve(coordinator.id)).toEqual(coordinator);

    // Another field changes: a new version, whose `self` is that version; the others stay as they were resolved.
    const v2 = await client.beta.agents.update(coordinator.id, { version: 1, system: 'You delegate.' });
    expect(v2.version).toBe(2);
    expect(v2.multiagent).toEqual({
      type: 'coordinator',
      agents: [reference(researcher, 1), reference(writer, 1), reference(coordinator, 2)],
    });
    // The same roster again changes nothing: no new version.
    const same = await client.beta.agents.update(coordinator.id, {
      multiagent: {
        type: 'coordinator',
        agents: [researcher.id, { type: 'agent', id: writer.id, version: 1 }, { type: 'self' }],
      },
    });
    expect(same.version).toBe(2);
    expect(same.updated_at).toBe(v2.updated_at);

    // A reference without a version takes the latest; the roster is replaced whole.
    const v3 = await client.beta.agents.update(coordinator.id, {
      version: 2,
      multiagent: { type: 'coordinator', agents: [{ type: 'agent', id: writer.id }] },
    });
    expect(v3.version).toBe(3);
    expect(v3.multiagent).toEqual({ type: 'coordinator', agents: [reference(writer, 2)] });
    // Versions are immutable: version 1 keeps its roster.
    expect((await client.beta.agents.retrieve(coordinator.id, { version: 1 })).multiagent).toEqual(
      coordinator.multiagent,
    );

    // `null` clears it, as a new version.
    const v4 = await client.beta.agents.update(coordinator.id, { version: 3, multiagent: null });
    expect(v4.version).toBe(4);
    expect(v4.multiagent).toBeNull();
    const versions = (await client.beta.agents.versions.list(coordinator.id)).data.map((agent) => agent.multiagent);
    expect(versions).toEqual([null, v3.multiagent, v2.multiagent, coordinator.multiagent]);
    const listed = (await client.beta.agents.list({ limit: 100 })).data.find((agent) => agent.id === coordinator.id);
    expect(listed?.multiagent).toBeNull();
  });

  it('create and update: refuse a malformed roster with a 400 that names the entry', async () => {
    const member = await worker('member');
    const other = await worker('other');
    const create = (agents: unknown[], extra: object = {}) =>
      client.beta.agents.create({
        name: 'coordinator',
        model: 'scripted-model',
        multiagent: { type: 'coordinator', agents } as never,
        ...extra,
      });

    await badRequest(create([]), 'multiagent.agents', 'at least 1');
    await badRequest(create(Array.from({ length: 21 }, () => member.id)), 'multiagent.agents', 'at most 20');
    await badRequest(create([member.id, 'agent_000000000000000000000000']), 'multiagent.agents[1]', 'no agent');
    await badRequest(create(['not-an-agent']), 'multiagent.agents[0]', 'expected an agent id');
    await badRequest(create([{ type: 'agent', id: member.id, version: 7 }]), 'multiagent.agents[0]', 'no version 7');
    await badRequest(create([{ type: 'agent', id: member.id, version: 0 }]), 'multiagent.agents[0].version');
    await badRequest(create([{ type: 'agent' }]), 'multiagent.agents[0]', 'id');
    await badRequest(
      create([member.id, { type: 'agent', id: member.id, version: 1 }]),
      'multiagent.agents[1]',
      'already listed',
    );
    await badRequest(create([{ type: 'self' }, other.id, { type: 'self' }]), 'multiagent.agents[2]', 'at most one');
    await badRequest(create([{ type: 'advisor', model: 'claude-opus-4-8' }]), 'multiagent.agents[0]', 'advisor');
    // `multiagent_20261001` is served where Keel runs it (test/multiagent-20261001.test.ts); its defaults are not.
    await badRequest(
      client.beta.agents.create({ name: 'next', model: 'scripted-model', multiagent: { type: 'multiagent_20261001' } }),
      'multiagent.subagents.inline_agents',
      'inline agents',
    );

    const archived = await worker('archived');
    await client.beta.agents.archive(archived.id);
    await badRequest(create([archived.id]), 'multiagent.agents[0]', 'archived');

    const nested = await create([member.id]);
    await badRequest(create([nested.id]), 'multiagent.agents[0]', 'multiagent set', 'depth');

    // Names must differ, the coordinator's own included when it lists itself.
    const twin = await worker('member');
    await badRequest(create([member.id, twin.id]), 'multiagent.agents[1]', 'name "member"');
    await badRequest(
      create([member.id, { type: 'self' }], { name: 'member' }),
      'multiagent.agents[1]',
      'name "member"',
    );

    // Agents whose tools wait for the client join a roster too: their child threads' calls are answered through the
    // session (test/multiagent-approvals.test.ts).
    const custom = await worker('custom', {
      tools: [{ type: 'custom', name: 'lookup', description: 'Looks up.', input_schema: { type: 'object' } }],
    });
    const asking = await worker('asking', {
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    expect((await create([custom.id, asking.id])).multiagent).toEqual({
      type: 'coordinator',
      agents: [reference(custom, 1), reference(asking, 1)],
    });
    const mcp = (policy: 'always_ask' | 'always_allow', toolPolicy: 'always_ask' | 'always_allow') =>
      worker(`mcp ${policy} ${toolPolicy}`, {
        mcp_servers: [{ type: 'url', name: 'docs', url: 'https://mcp.example.com/mcp' }],
        tools: [
          {
            type: 'mcp_toolset',
            mcp_server_name: 'docs',
            default_config: { permission_policy: { type: policy } },
            configs: [{ name: 'search', permission_policy: { type: toolPolicy } }],
          },
        ],
      });
    const allowedMcp = await mcp('always_allow', 'always_allow');
    expect((await create([allowedMcp.id])).multiagent).toEqual({
      type: 'coordinator',
      agents: [reference(allowedMcp, 1)],
    });

    // `self` is checked against the coordinator being written (its name among the others'), at each later update.
    const withSelf = await create([{ type: 'self' }, member.id], { name: 'selfish', tools: [allowAll] });
    await badRequest(
      client.beta.agents.update(withSelf.id, { name: 'member' }),
      'multiagent.agents[1]',
      'name "member"',
    );
    await badRequest(
      client.beta.agents.update(member.id, { multiagent: { type: 'coordinator', agents: [member.id] } }),
      'multiagent.agents[0]',
      'self',
    );
    // Nothing above wrote a version.
    expect((await client.beta.agents.retrieve(withSelf.id)).version).toBe(1);
    expect((await client.beta.agents.retrieve(member.id)).multiagent).toBeNull();
  });
});

describe('sessions of a coordinator', () => {
  it('create: passes the roster resolved at its versions, self as the session agent with its overrides', async () => {
    const researcher = await worker('researcher');
    const writer = await worker('writer', { tools: [] });
    const coordinator = await client.beta.agents.create({
      name: 'lead',
      model: 'scripted-model',
      system: 'You delegate.',
      tools: [allowAll],
      multiagent: { type: 'coordinator', agents: [researcher.id, { type: 'agent', id: writer.id }, { type: 'self' }] },
    });
    // A later version of a roster agent does not change the roster, which named version 1.
    await client.beta.agents.update(writer.id, { system: 'You write differently.' });

    const session = await client.beta.sessions.create({ agent: coordinator.id, environment_id: environmentId });
    const input = await workflowInput(session.id);
    const stored = async (id: string, version: number) => (await harness.stack.store.agents.get(id, version))!;
    const threadView = (agent: BetaManagedAgentsAgent) => ({
      id: agent.id,
      type: 'agent' as const,
      version: agent.version,
      name: agent.name,
      description: agent.description,
      model: agent.model,
      system: agent.system,
      tools: agent.tools,
      mcp_servers: agent.mcp_servers,
      skills: agent.skills,
      execution_identity: agent.execution_identity,
    });
    const expected: CallableAgent[] = [
      { name: 'researcher', snapshot: toAgentSnapshot(await stored(researcher.id, 1)), view: threadView(researcher) },
      { name: 'writer', snapshot: toAgentSnapshot(await stored(writer.id, 1)), view: threadView(writer) },
      { name: 'lead', snapshot: input.agent, view: threadView(coordinator) },
    ];
    expect(input.callableAgents).toEqual(expected);
    expect(input.agent).toMatchObject({ id: coordinator.id, version: 1, system: 'You delegate.' });
    // The session's agent shows each roster agent's full definition, as the hosted session object does.
    expect(session.agent.multiagent).toEqual({ type: 'coordinator', agents: expected.map((agent) => agent.view) });
    expect((await client.beta.sessions.retrieve(session.id)).agent).toEqual(session.agent);

    // A session's agent change keeps the roster the session resolved.
    const updated = await client.beta.sessions.update(session.id, { agent: { tools: [] } });
    expect(updated.agent.tools).toEqual([]);
    expect(updated.agent.multiagent).toEqual(session.agent.multiagent);

    // Overrides apply to the coordinator and to its self copy, not to the other agents.
    const overridden = await client.beta.sessions.create({
      agent: { type: 'agent_with_overrides', id: coordinator.id, system: 'You delegate carefully.' },
      environment_id: environmentId,
    });
    const overriddenInput = await workflowInput(overridden.id);
    expect(overriddenInput.callableAgents?.map((agent) => agent.snapshot.system)).toEqual([
      'You are researcher.',
      'You are writer.',
      'You delegate carefully.',
    ]);
    expect(overriddenInput.callableAgents?.[2]?.view.system).toBe('You delegate carefully.');
    expect(overriddenInput.callableAgents?.[2]?.snapshot).toEqual(overriddenInput.agent);
    // Overridden tools that wait for the client reach the self copy as well (its calls are answered through the session).
    const asking = await client.beta.sessions.create({
      agent: {
        type: 'agent_with_overrides',
        id: coordinator.id,
        tools: [{ type: 'custom', name: 'ask', description: 'Asks the user.', input_schema: { type: 'object' } }],
      },
      environment_id: environmentId,
    });
    expect((await workflowInput(asking.id)).callableAgents?.[2]?.snapshot.customTools).toEqual([
      { name: 'ask', description: 'Asks the user.', inputSchema: { type: 'object' } },
    ]);

    // A single-threaded agent's session carries no roster.
    const plain = await client.beta.sessions.create({ agent: researcher.id, environment_id: environmentId });
    expect((await workflowInput(plain.id)).callableAgents).toBeUndefined();
    expect(plain.agent.multiagent).toBeNull();

    for (const id of [session.id, overridden.id, plain.id]) await client.beta.sessions.delete(id);
  });

  it('create: refuses a roster agent archived since (409) and a self_hosted environment (400)', async () => {
    const member = await worker('member');
    const coordinator = await client.beta.agents.create({
      name: 'lead',
      model: 'scripted-model',
      multiagent: { type: 'coordinator', agents: [member.id] },
    });
    const selfHosted = await client.beta.environments.create({ name: 'own machines', config: { type: 'self_hosted' } });
    await badRequest(
      client.beta.sessions.create({ agent: coordinator.id, environment_id: selfHosted.id }),
      'environment_id',
      'self_hosted',
    );

    await client.beta.agents.archive(member.id);
    const archived = await rejection(
      client.beta.sessions.create({ agent: coordinator.id, environment_id: environmentId }),
    );
    expect(archived).toBeInstanceOf(ConflictError);
    expect(archived.message).toContain('agent.multiagent.agents[0]');
    expect(archived.message).toContain(member.id);
  });
});
