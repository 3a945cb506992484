import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  environmentId = (await client.beta.environments.create({ name: 'overrides env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

const lookup = {
  type: 'custom' as const,
  name: 'lookup',
  description: 'Looks a word up.',
  input_schema: { type: 'object' as const, properties: { word: { type: 'string' } } },
};

function allEvents(sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  return allSessionEvents(client, sessionId);
}

/** Sends `text` and waits for the idle that ends its turn. */
async function turn(sessionId: string, text: string): Promise<void> {
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  await untilIdleAfter(client, sessionId, sent.data?.[0]?.id);
}

function offeredTools(): string[] {
  const tools = (harness.model.requests.at(-1)?.body.tools ?? []) as Array<{ name: string }>;
  return tools.map((tool) => tool.name);
}

describe('agent_with_overrides and sessions.update of agent', () => {
  it('runs a session on an agent version with overrides, then changes its tools while idle, from the next turn', async () => {
    const agent = await client.beta.agents.create({
      name: 'base',
      model: 'scripted-model',
      system: 'You are the base agent.',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const session = await client.beta.sessions.create({
      agent: {
        type: 'agent_with_overrides',
        id: agent.id,
        model: 'claude-opus-4-8',
        system: 'You are overridden.',
        tools: [lookup],
      },
      environment_id: environmentId,
    });
    expect(session.agent).toMatchObject({
      id: agent.id,
      version: 1,
      model: { id: 'claude-opus-4-8' },
      system: 'You are overridden.',
      tools: [expect.objectContaining({ type: 'custom', name: 'lookup' })],
    });
    // The agent itself is unchanged: overrides make no version.
    expect(await client.beta.agents.retrieve(agent.id)).toMatchObject({
      version: 1,
      system: 'You are the base agent.',
    });

    harness.model.enqueue({ kind: 'text', text: 'overridden reply' });
    await turn(session.id, 'first');
    const first = harness.model.requests.at(-1)?.body;
    expect(first?.model).toBe('claude-opus-4-8');
    expect(JSON.stringify(first?.system)).toContain('You are overridden.');
    expect(offeredTools()).toEqual(['lookup']);

    const updated = await client.beta.sessions.update(session.id, {
      agent: {
        tools: [
          {
            type: 'agent_toolset_20260401',
            default_config: { enabled: false },
            configs: [{ name: 'bash', enabled: true }],
          },
        ],
      },
    });
    expect(updated.agent.tools).toEqual([
      expect.objectContaining({ type: 'agent_toolset_20260401', configs: [expect.objectContaining({ name: 'bash' })] }),
    ]);
    expect((await client.beta.sessions.retrieve(session.id)).agent.tools).toEqual(updated.agent.tools);
    const events = await allEvents(session.id);
    const change = events.filter((event) => event.type === 'session.updated');
    expect(change).toHaveLength(1);
    expect(change[0]).toMatchObject({ agent: { id: agent.id, tools: updated.agent.tools } });

    harness.model.enqueue({ kind: 'text', text: 'with bash now' });
    await turn(session.id, 'second');
    expect(offeredTools()).toEqual(['bash']);
    expect(harness.model.requests.at(-1)?.body.model).toBe('claude-opus-4-8');

    // The same tools again change nothing: no session.updated.
    await client.beta.sessions.update(session.id, { agent: { tools: updated.agent.tools } });
    expect((await allEvents(session.id)).filter((event) => event.type === 'session.updated')).toHaveLength(1);

    // While a turn runs, the agent cannot change: 409, and nothing changed.
    harness.model.enqueue({ kind: 'hang' });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'third' }] }],
    });
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await client.beta.sessions.retrieve(session.id)).status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const busy = await rejection(client.beta.sessions.update(session.id, { agent: { tools: [lookup] } }));
    expect(busy.status).toBe(409);
    expect(busy.message).toContain('only while it is idle');
    await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
    expect((await client.beta.sessions.retrieve(session.id)).agent.tools).toEqual(updated.agent.tools);
    await client.beta.sessions.delete(session.id);
  });

  it('refuses overrides and agent changes Keel cannot run, naming the field', async () => {
    const agent = await client.beta.agents.create({ name: 'plain', model: 'scripted-model', tools: [] });
    const dangling = await rejection(
      client.beta.sessions.create({
        agent: {
          type: 'agent_with_overrides',
          id: agent.id,
          tools: [{ type: 'mcp_toolset', mcp_server_name: 'nowhere' }],
        },
        environment_id: environmentId,
      }),
    );
    expect(dangling.status).toBe(400);
    expect(dangling.message).toContain('nowhere');
    const malformed = await rejection(
      client.beta.sessions.create({
        agent: { type: 'agent_with_overrides', id: agent.id, system: 42 as never },
        environment_id: environmentId,
      }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.message).toContain('system');

    // Keel's extension: a session without `agent` runs the server's default agent.
    const onDefault = await client.beta.sessions.create({} as never);
    const noAgent = await rejection(client.beta.sessions.update(onDefault.id, { agent: { tools: [lookup] } }));
    expect(noAgent.status).toBe(400);
    expect(noAgent.message).toContain('default agent');
    await client.beta.sessions.delete(onDefault.id);
  });
});
