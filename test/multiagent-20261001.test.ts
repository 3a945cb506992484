import type Anthropic from '@anthropic-ai/sdk';
import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsMultiagent20261001Params,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionWorkflowInput } from '../common/session';
import { toAgentSnapshot } from '../server/agents/agent-snapshot';
import { toThreadAgentView } from '../server/agents/thread-agent-view';
import { MultiagentResponder } from './support/multiagent-responder';
import type { ThreadRequest } from './support/multiagent-responder';
import type { ScriptedReply } from './scripted-model-server';
import { sdkClient, untilLog } from './support/sdk';
import { allowAll, badRequest, createNamedAgent, sessionWorkflowInput } from './support/agent-checks';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const LEAD_SYSTEM = 'You are the lead of the multiagent_20261001 test.';
const HELPER_SYSTEM = 'You are the helper of the multiagent_20261001 test.';

/** The lead's model: delegates to the helper by name, then acknowledges its reply. */
function leadScript({ text, toolResultsOf }: ThreadRequest): ScriptedReply | undefined {
  if (text.includes('Message from thread')) return { kind: 'text', text: 'The helper answered.' };
  if (toolResultsOf.includes('spawn_agent')) return { kind: 'text', text: 'Waiting for the helper.' };
  if (text.includes('Ask the helper')) {
    return { kind: 'tool_use', name: 'spawn_agent', input: { agent_name: 'helper', message: 'Say hello.' } };
  }
  return undefined;
}

/** The helper's model: one plain reply. */
function helperScript({ text }: ThreadRequest): ScriptedReply | undefined {
  return text.includes('Say hello') ? { kind: 'text', text: 'hello-from-helper' } : undefined;
}

const responder = new MultiagentResponder({
  lead: { system: LEAD_SYSTEM, script: leadScript },
  helper: { system: HELPER_SYSTEM, script: helperScript },
});

let harness: TestStack;
let client: Anthropic;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack({ model: { respond: responder.respond } });
  client = sdkClient(harness.stack.apiUrl);
  environmentId = (await client.beta.environments.create({ name: 'multiagent env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

const DISABLED = { type: 'disabled' } as const;

/** Saves an agent `name` with tools that run without asking. */
function worker(
  name: string,
  extra: Partial<Anthropic.Beta.Agents.AgentCreateParams> = {},
): Promise<BetaManagedAgentsAgent> {
  return createNamedAgent(client, name, extra);
}

/** Creates an agent named `name` with `multiagent` (and `extra`). */
function lead(
  multiagent: BetaManagedAgentsMultiagent20261001Params,
  extra: Partial<Anthropic.Beta.Agents.AgentCreateParams> = {},
): Promise<BetaManagedAgentsAgent> {
  return client.beta.agents.create({ name: 'lead', model: 'scripted-model', tools: [allowAll], multiagent, ...extra });
}

/** The `subagents` Keel runs: saved agents only. */
function predefined(
  ...agents: NonNullable<Anthropic.Beta.Agents.BetaManagedAgentsMultiagentSubagentsEnabledParams['predefined_agents']>
) {
  return { type: 'enabled' as const, inline_agents: DISABLED, predefined_agents: agents };
}

/** The stored configuration Keel serves, with these references as the predefined agents. */
function served(...references: Array<{ id: string; version: number }>) {
  return {
    type: 'multiagent_20261001',
    advisor: DISABLED,
    subagents: {
      type: 'enabled',
      inline_agents: DISABLED,
      predefined_agents: references.map(({ id, version }) => ({ type: 'agent', id, version })),
    },
    workflows: DISABLED,
  };
}

/** The input the session's Workflow was started with. */
function workflowInput(sessionId: string): Promise<SessionWorkflowInput> {
  return sessionWorkflowInput(harness.stack.temporal, sessionId);
}

describe('agents with multiagent_20261001', () => {
  it('create: serves subagents of saved agents (ids, references, self) and shows the resolved configuration', async () => {
    const researcher = await worker('researcher');
    const writer = await worker('writer');
    await client.beta.agents.update(writer.id, { system: 'You write better.' });

    const full = await lead({
      type: 'multiagent_20261001',
      advisor: DISABLED,
      subagents: predefined(researcher.id, { type: 'agent', id: writer.id, version: 1 }, { type: 'self' }),
      workflows: DISABLED,
    });
    expect(full.multiagent).toEqual(
      served({ id: researcher.id, version: 1 }, { id: writer.id, version: 1 }, { id: full.id, version: 1 }),
    );
    expect(await client.beta.agents.retrieve(full.id)).toEqual(full);

    // `advisor` omitted or null takes its default, disabled; a reference without a version takes the latest.
    const omitted = await lead({
      type: 'multiagent_20261001',
      subagents: predefined({ type: 'agent', id: writer.id }),
      workflows: DISABLED,
    });
    expect(omitted.multiagent).toEqual(served({ id: writer.id, version: 2 }));
    const nullAdvisor = await lead({
      type: 'multiagent_20261001',
      advisor: null,
      subagents: predefined(researcher.id),
      workflows: DISABLED,
    });
    expect(nullAdvisor.multiagent).toEqual(served({ id: researcher.id, version: 1 }));

    // Subagents disabled too: no multiagent at all, stored as the SDK shapes it.
    const none = await lead({ type: 'multiagent_20261001', subagents: DISABLED, workflows: DISABLED });
    expect(none.multiagent).toEqual({
      type: 'multiagent_20261001',
      advisor: DISABLED,
      subagents: DISABLED,
      workflows: DISABLED,
    });
    // An agent with multiagent set, even all disabled, cannot be a subagent (depth limit 1).
    await badRequest(
      lead({ type: 'multiagent_20261001', subagents: predefined(none.id), workflows: DISABLED }),
      'multiagent.subagents.predefined_agents[0]',
      'multiagent set',
      'depth',
    );
  });

  it('create: refuses what Keel does not run, and bad predefined agents, with a 400 that names the field', async () => {
    const member = await worker('member');
    const other = await worker('other');
    const create = (multiagent: unknown, extra: Partial<Anthropic.Beta.Agents.AgentCreateParams> = {}) =>
      lead(multiagent as BetaManagedAgentsMultiagent20261001Params, extra);
    const withList = (agents: unknown[]) =>
      create({ type: 'multiagent_20261001', subagents: predefined(...(agents as string[])), workflows: DISABLED });

    // The defaults: subagents with inline agents, and workflows, enabled; one 400 names each member to change.
    const defaults = await badRequest(
      create({ type: 'multiagent_20261001' }),
      'multiagent.subagents.inline_agents',
      'Keel does not run inline agents yet',
      'send {"type": "disabled"}',
      'multiagent.subagents.predefined_agents: ',
      'multiagent.workflows: Keel does not run workflow runs yet',
    );
    expect(defaults).not.toContain('multiagent.advisor');
    await badRequest(
      create({ type: 'multiagent_20261001', subagents: predefined(member.id) }),
      'multiagent.workflows',
      'Keel does not run workflow runs yet',
      'send {"type": "disabled"}',
    );
    await badRequest(
      create({ type: 'multiagent_20261001', subagents: predefined(member.id), workflows: null }),
      'multiagent.workflows',
      'workflow runs',
    );
    await badRequest(
      create({
        type: 'multiagent_20261001',
        subagents: predefined(member.id),
        workflows: { type: 'enabled', inline_agents: DISABLED, predefined_agents: [member.id] },
      }),
      'multiagent.workflows',
      'workflow runs',
    );
    await badRequest(
      create({
        type: 'multiagent_20261001',
        advisor: { type: 'enabled', model: 'claude-opus-4-8' },
        subagents: predefined(member.id),
        workflows: DISABLED,
      }),
      'multiagent.advisor',
      'Keel does not run an advisor yet; send {"type": "disabled"}',
    );
    for (const inline of [undefined, null, { type: 'enabled' }]) {
      await badRequest(
        create({
          type: 'multiagent_20261001',
          subagents: {
            type: 'enabled',
            predefined_agents: [member.id],
            ...(inline === undefined ? {} : { inline_agents: inline }),
          },
          workflows: DISABLED,
        }),
        'multiagent.subagents.inline_agents',
        'Keel does not run inline agents yet',
        'send {"type": "disabled"}',
      );
    }
    for (const list of [[], null, undefined]) {
      await badRequest(
        create({
          type: 'multiagent_20261001',
          subagents: {
            type: 'enabled',
            inline_agents: DISABLED,
            ...(list === undefined ? {} : { predefined_agents: list }),
          },
          workflows: DISABLED,
        }),
        'multiagent.subagents.predefined_agents',
        'at least one',
      );
    }

    // The shapes the SDK types: each sent object needs its type, an enabled advisor its model; nothing unknown.
    await badRequest(
      create({
        type: 'multiagent_20261001',
        advisor: { type: 'enabled' },
        subagents: predefined(member.id),
        workflows: DISABLED,
      }),
      'multiagent.advisor.model',
    );
    await badRequest(
      create({ type: 'multiagent_20261001', subagents: { inline_agents: DISABLED }, workflows: DISABLED }),
      'multiagent.subagents.type',
      "{type: 'disabled'}",
    );
    await badRequest(
      create({ type: 'multiagent_20261001', subagents: predefined(member.id), workflows: DISABLED, agents: [] }),
      'multiagent',
      'Unrecognized key',
      '"agents"',
    );
    await badRequest(create({ type: 'multiagent_20261002' }), 'multiagent.type', 'multiagent_20261001', 'coordinator');

    // Predefined agents follow the coordinator roster's rules, named at their index.
    const field = 'multiagent.subagents.predefined_agents';
    await badRequest(withList(Array.from({ length: 21 }, () => member.id)), field, 'at most 20');
    await badRequest(withList([member.id, 'agent_000000000000000000000000']), `${field}[1]`, 'no agent');
    await badRequest(withList(['not-an-agent']), `${field}[0]`, 'expected an agent id');
    await badRequest(withList([{ type: 'agent', id: member.id, version: 7 }]), `${field}[0]`, 'no version 7');
    await badRequest(withList([{ type: 'advisor', model: 'claude-opus-4-8' }]), `${field}[0]`, 'expected an agent id');
    await badRequest(withList([member.id, { type: 'agent', id: member.id }]), `${field}[1]`, 'already listed');
    await badRequest(withList([{ type: 'self' }, other.id, { type: 'self' }]), `${field}[2]`, 'at most one');
    const archived = await worker('archived');
    await client.beta.agents.archive(archived.id);
    await badRequest(withList([archived.id]), `${field}[0]`, 'archived');
    const twin = await worker('member');
    await badRequest(withList([member.id, twin.id]), `${field}[1]`, 'name "member"');
    const custom = await worker('custom', {
      tools: [{ type: 'custom', name: 'lookup', description: 'Looks up.', input_schema: { type: 'object' } }],
    });
    // A saved agent whose tools wait for the client is a predefined agent too (its calls are answered through the
    // session).
    expect(((await withList([custom.id])).multiagent as { subagents: unknown }).subagents).toMatchObject({
      predefined_agents: [{ type: 'agent', id: custom.id, version: 1 }],
    });
  });

  it('update: merges into a stored multiagent_20261001 level by level (omitted keeps, null defaults, a list replaces)', async () => {
    const first = await worker('first');
    const second = await worker('second');
    const agent = await lead({
      type: 'multiagent_20261001',
      subagents: predefined(first.id, { type: 'self' }),
      workflows: DISABLED,
    });
    expect(agent.multiagent).toEqual(served({ id: first.id, version: 1 }, { id: agent.id, version: 1 }));

    // Omitted keys keep their stored values: this says nothing new, so no version is written.
    for (const multiagent of [
      { type: 'multiagent_20261001' },
      { type: 'multiagent_20261001', subagents: { type: 'enabled' } },
      { type: 'multiagent_20261001', advisor: DISABLED, workflows: DISABLED },
    ] as BetaManagedAgentsMultiagent20261001Params[]) {
      const same = await client.beta.agents.update(agent.id, { multiagent });
      expect(same.version).toBe(1);
      expect(same.updated_at).toBe(agent.updated_at);
    }
    // Another field changes: the stored configuration stays, its self follows the new version.
    const v2 = await client.beta.agents.update(agent.id, { version: 1, system: 'You lead.' });
    expect(v2.multiagent).toEqual(served({ id: first.id, version: 1 }, { id: agent.id, version: 2 }));

    // A sent list replaces the stored one; the stored inline_agents (disabled) stays.
    const v3 = await client.beta.agents.update(agent.id, {
      version: 2,
      multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', predefined_agents: [second.id] } },
    });
    expect(v3.version).toBe(3);
    expect(v3.multiagent).toEqual(served({ id: second.id, version: 1 }));

    // Null takes the default, which Keel does not run: refused, nothing written.
    await badRequest(
      client.beta.agents.update(agent.id, { multiagent: { type: 'multiagent_20261001', workflows: null } }),
      'multiagent.workflows',
      'workflow runs',
    );
    await badRequest(
      client.beta.agents.update(agent.id, {
        multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', inline_agents: null } },
      }),
      'multiagent.subagents.inline_agents',
      'inline agents',
    );
    await badRequest(
      client.beta.agents.update(agent.id, {
        multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', predefined_agents: null } },
      }),
      'multiagent.subagents.predefined_agents',
      'at least one',
    );
    await badRequest(
      client.beta.agents.update(agent.id, { multiagent: { type: 'multiagent_20261001', subagents: null } }),
      'multiagent.subagents.inline_agents',
    );

    // Subagents off; then on again: an object of another type than the stored one takes the defaults it omits.
    const v4 = await client.beta.agents.update(agent.id, {
      multiagent: { type: 'multiagent_20261001', subagents: DISABLED },
    });
    expect(v4.multiagent).toEqual({
      type: 'multiagent_20261001',
      advisor: DISABLED,
      subagents: DISABLED,
      workflows: DISABLED,
    });
    await badRequest(
      client.beta.agents.update(agent.id, {
        multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', predefined_agents: [first.id] } },
      }),
      'multiagent.subagents.inline_agents',
    );
    const v5 = await client.beta.agents.update(agent.id, {
      multiagent: { type: 'multiagent_20261001', subagents: predefined(first.id, { type: 'self' }) },
    });
    expect(v5.version).toBe(5);
    expect(v5.multiagent).toEqual(served({ id: first.id, version: 1 }, { id: agent.id, version: 5 }));
    expect((await client.beta.agents.retrieve(agent.id)).version).toBe(5);

    // A stored coordinator is replaced, not merged: the sent configuration takes its defaults.
    const coordinator = await client.beta.agents.create({
      name: 'coordinator',
      model: 'scripted-model',
      multiagent: { type: 'coordinator', agents: [first.id] },
    });
    await badRequest(
      client.beta.agents.update(coordinator.id, {
        multiagent: { type: 'multiagent_20261001', subagents: { type: 'enabled', inline_agents: DISABLED } },
      }),
      'multiagent.subagents.predefined_agents',
    );
    const switched = await client.beta.agents.update(coordinator.id, {
      multiagent: { type: 'multiagent_20261001', subagents: predefined(second.id), workflows: DISABLED },
    });
    expect(switched.multiagent).toEqual(served({ id: second.id, version: 1 }));
    // And back, and cleared.
    const back = await client.beta.agents.update(coordinator.id, {
      multiagent: { type: 'coordinator', agents: [first.id] },
    });
    expect(back.multiagent).toEqual({ type: 'coordinator', agents: [{ type: 'agent', id: first.id, version: 1 }] });
    expect((await client.beta.agents.update(coordinator.id, { multiagent: null })).multiagent).toBeNull();

    // An update that keeps the configuration checks it anew against the version being written.
    await badRequest(
      client.beta.agents.update(agent.id, { name: 'first' }),
      'multiagent.subagents.predefined_agents[1]',
      'name "first"',
    );
  });
});

describe('sessions of a multiagent_20261001 agent', () => {
  it('create: passes the predefined agents as callableAgents; the session agent shows their full definitions', async () => {
    const researcher = await worker('researcher');
    const agent = await lead(
      { type: 'multiagent_20261001', subagents: predefined(researcher.id, { type: 'self' }), workflows: DISABLED },
      { system: 'You delegate.' },
    );
    await client.beta.agents.update(researcher.id, { system: 'A later version.' });

    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
    const input = await workflowInput(session.id);
    const stored = (await harness.stack.store.agents.get(researcher.id, 1))!;
    expect(input.callableAgents).toEqual([
      { name: 'researcher', snapshot: toAgentSnapshot(stored), view: toThreadAgentView(researcher) },
      { name: 'lead', snapshot: input.agent, view: toThreadAgentView(agent) },
    ]);
    expect(session.agent.multiagent).toEqual({
      type: 'multiagent_20261001',
      advisor: DISABLED,
      subagents: {
        type: 'enabled',
        inline_agents: DISABLED,
        predefined_agents: [toThreadAgentView(researcher), toThreadAgentView(agent)],
      },
      workflows: DISABLED,
    });
    expect((await client.beta.sessions.retrieve(session.id)).agent).toEqual(session.agent);

    // Subagents disabled: a single-agent session, whose agent shows the configuration as stored.
    const single = await lead({ type: 'multiagent_20261001', subagents: DISABLED, workflows: DISABLED });
    const plain = await client.beta.sessions.create({ agent: single.id, environment_id: environmentId });
    expect((await workflowInput(plain.id)).callableAgents).toBeUndefined();
    expect(plain.agent.multiagent).toEqual(single.multiagent);

    // Predefined agents run in Keel's sandbox: not in a self_hosted environment.
    const selfHosted = await client.beta.environments.create({ name: 'own machines', config: { type: 'self_hosted' } });
    await badRequest(
      client.beta.sessions.create({ agent: agent.id, environment_id: selfHosted.id }),
      'environment_id',
      'self_hosted',
    );
    for (const id of [session.id, plain.id]) await client.beta.sessions.delete(id);
  });

  it('runs: the lead spawns a predefined agent by name, gets its reply, and the session goes idle', async () => {
    const helper = await client.beta.agents.create({
      name: 'helper',
      model: 'scripted-model',
      system: HELPER_SYSTEM,
      tools: [allowAll],
    });
    const agent = await lead(
      { type: 'multiagent_20261001', subagents: predefined(helper.id), workflows: DISABLED },
      { system: LEAD_SYSTEM },
    );
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Ask the helper to say hello.' }] }],
    });
    const log = await untilLog(
      client,
      session.id,
      (events) => {
        const reply = events.findIndex((event) => (event.type as string) === 'agent.thread_message_received');
        return reply >= 0 && events.slice(reply).some((event) => event.type === 'session.status_idle');
      },
      { what: 'the helper reply and the idle after it' },
    );
    const reply = log.find((event) => (event.type as string) === 'agent.thread_message_received') as unknown as {
      from_agent_name: string;
      content: Array<{ text?: string }>;
    };
    expect(reply.from_agent_name).toBe('helper');
    expect(reply.content.map((block) => block.text).join('')).toContain('hello-from-helper');
    expect(log.map((event) => event.type as string)).toContain('session.thread_created');
    expect(responder.of('helper')).toHaveLength(1);
    await untilLog(
      client,
      session.id,
      (events) =>
        events.some(
          (event) => event.type === 'agent.message' && JSON.stringify(event).includes('The helper answered.'),
        ),
      { what: "the lead's answer" },
    );
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('idle');
    await client.beta.sessions.delete(session.id);
  });
});
