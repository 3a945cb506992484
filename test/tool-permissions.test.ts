import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection, sdkClient } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  environmentId = (await client.beta.environments.create({ name: 'tools env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

type Event = BetaManagedAgentsSessionEvent;

async function allEvents(sessionId: string): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 50 })) events.push(event);
  return events;
}

/** Polls the log until `predicate` holds for it; fails with the log when it never does. */
async function waitForEvents(sessionId: string, predicate: (events: Event[]) => boolean): Promise<Event[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const events = await allEvents(sessionId);
    if (predicate(events)) return events;
    if (Date.now() > deadline) throw new Error(`timed out; log: ${JSON.stringify(events.map((e) => e.type))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function idles(events: Event[]): Array<Extract<Event, { type: 'session.status_idle' }>> {
  return events.filter(
    (event): event is Extract<Event, { type: 'session.status_idle' }> => event.type === 'session.status_idle',
  );
}

/** The tool names the model was offered in its latest request. */
function offeredTools(): string[] {
  const body = harness.model.requests.at(-1)?.body as { tools?: Array<{ name: string }> } | undefined;
  return (body?.tools ?? []).map((tool) => tool.name);
}

async function startSession(tools: Anthropic.Beta.Agents.AgentCreateParams['tools']): Promise<string> {
  const agent = await client.beta.agents.create({ name: 'tools', model: 'scripted-model', tools });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId });
  return session.id;
}

async function say(sessionId: string, text: string): Promise<void> {
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
}

describe('always_ask: a person holds back tool calls', () => {
  it('blocks two calls, resolves them one by one (idle re-emitted with the rest), runs the allowed one and feeds the denial back', async () => {
    const sessionId = await startSession([
      {
        type: 'agent_toolset_20260401',
        default_config: { permission_policy: { type: 'always_allow' } },
        configs: [
          { name: 'bash', permission_policy: { type: 'always_ask' } },
          { name: 'grep', enabled: false },
        ],
      },
    ]);
    harness.model.enqueue(
      {
        kind: 'tool_uses',
        calls: [
          { name: 'bash', input: { command: 'echo allowed-output' } },
          { name: 'bash', input: { command: 'echo never-runs > /workspace/denied' } },
        ],
      },
      { kind: 'text', text: 'Understood.' },
    );
    await say(sessionId, 'run two things');
    const blocked = await waitForEvents(sessionId, (events) => idles(events).length === 1);
    expect(offeredTools()).toContain('bash');
    expect(offeredTools()).not.toContain('grep');
    // No search provider is configured in this stack, so web_search is never offered.
    expect(offeredTools()).toContain('web_fetch');
    expect(offeredTools()).not.toContain('web_search');
    const toolUses = blocked.filter((event) => event.type === 'agent.tool_use');
    expect(toolUses).toHaveLength(2);
    for (const use of toolUses)
      expect(use).toMatchObject({ evaluated_permission: 'ask', evaluation: { type: 'always_ask' } });
    const [first, second] = toolUses.map((event) => event.id);
    expect(idles(blocked)[0]?.stop_reason).toEqual({ type: 'requires_action', event_ids: [first, second] });
    expect(blocked.some((event) => event.type === 'agent.tool_result')).toBe(false);
    expect((await client.beta.sessions.retrieve(sessionId)).status).toBe('idle');

    // Answers for calls the session does not wait on are refused whole, and change nothing.
    const before = (await allEvents(sessionId)).length;
    const unknown = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [
          { type: 'user.tool_confirmation', tool_use_id: first!, result: 'allow' },
          { type: 'user.tool_confirmation', tool_use_id: 'sevt_0000000000', result: 'allow' },
        ],
      }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain('events[1].tool_use_id');
    const wrongKind = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.custom_tool_result', custom_tool_use_id: first!, content: [] }],
      }),
    );
    expect(wrongKind.status).toBe(400);
    const denyMessageOnAllow = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: first!, result: 'allow', deny_message: 'no' }],
      }),
    );
    expect(denyMessageOnAllow.status).toBe(400);
    expect(denyMessageOnAllow.message).toContain('deny_message');
    const withInterrupt = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.interrupt' }, { type: 'user.tool_confirmation', tool_use_id: first!, result: 'allow' }],
      }),
    );
    expect(withInterrupt.status).toBe(400);
    expect(withInterrupt.message).toContain('events[0]');
    expect((await allEvents(sessionId)).length).toBe(before);

    await client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: first!, result: 'allow' }],
    });
    const partly = await waitForEvents(sessionId, (events) => idles(events).length === 2);
    expect(idles(partly)[1]?.stop_reason).toEqual({ type: 'requires_action', event_ids: [second] });
    expect(partly.some((event) => event.type === 'agent.tool_result')).toBe(false);
    const again = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: first!, result: 'deny' }],
      }),
    );
    expect(again.status).toBe(400);

    await client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: second!, result: 'deny', deny_message: 'not in prod' }],
    });
    const done = await waitForEvents(sessionId, (events) => idles(events).length === 3);
    expect(idles(done)[2]?.stop_reason).toEqual({ type: 'end_turn' });
    const results = done.filter((event) => event.type === 'agent.tool_result');
    expect(results.map((event) => event.tool_use_id)).toEqual([first, second]);
    expect(JSON.stringify(results[0])).toContain('allowed-output');
    expect(results[0]).toMatchObject({ is_error: false });
    expect(results[1]).toMatchObject({ is_error: true });
    expect(JSON.stringify(results[1])).toContain('not in prod');
    const confirmations = done.filter((event) => event.type === 'user.tool_confirmation');
    expect(confirmations.map((event) => [event.tool_use_id, event.result])).toEqual([
      [first, 'allow'],
      [second, 'deny'],
    ]);
    // The model saw both results, the denial with its message.
    const lastRequest = JSON.stringify(harness.model.requests.at(-1)?.body);
    expect(lastRequest).toContain('allowed-output');
    expect(lastRequest).toContain('not in prod');
    const denied = await harness.docker
      .getContainer(`keel-${sessionId}`)
      .exec({ Cmd: ['test', '-e', '/workspace/denied'], AttachStdout: true })
      .then(async (exec) => {
        const stream = await exec.start({});
        await new Promise((resolve) => stream.on('end', resolve).resume());
        return (await exec.inspect()).ExitCode;
      });
    expect(denied).toBe(1);
    await client.beta.sessions.delete(sessionId);
  });

  it('an interrupt ends the wait: the held call gets an error result and the session is usable', async () => {
    const sessionId = await startSession([
      { type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } },
    ]);
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'echo held' } });
    await say(sessionId, 'try it');
    await waitForEvents(sessionId, (events) => idles(events).length === 1);
    await client.beta.sessions.events.send(sessionId, { events: [{ type: 'user.interrupt' }] });
    const after = await waitForEvents(sessionId, (events) => idles(events).length === 2);
    expect(idles(after)[1]?.stop_reason).toEqual({ type: 'end_turn' });
    const result = after.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: true });
    expect(JSON.stringify(result)).toContain('Interrupted');
    harness.model.enqueue({ kind: 'text', text: 'Still here.' });
    await say(sessionId, 'hello again');
    const final = await waitForEvents(sessionId, (events) => idles(events).length === 3);
    expect(final.at(-3)).toMatchObject({ type: 'agent.message', content: [{ type: 'text', text: 'Still here.' }] });
    expect(final.at(-2)?.type).toBe('session.usage');
    await client.beta.sessions.delete(sessionId);
  });
});

describe('custom tools: the client runs them', () => {
  it('emits agent.custom_tool_use, waits with requires_action, and feeds user.custom_tool_result to the model', async () => {
    const sessionId = await startSession([
      {
        type: 'custom',
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]);
    harness.model.enqueue(
      { kind: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } },
      { kind: 'text', text: 'It is cold.' },
    );
    await say(sessionId, 'weather?');
    const blocked = await waitForEvents(sessionId, (events) => idles(events).length === 1);
    const offered = (harness.model.requests.at(-1)?.body as { tools?: Array<Record<string, unknown>> }).tools ?? [];
    // The last tool carries the cache breakpoint of the tool definitions.
    expect(offered).toEqual([
      {
        cache_control: { type: 'ephemeral' },
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]);
    const use = blocked.find((event) => event.type === 'agent.custom_tool_use');
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
    expect(idles(blocked)[0]?.stop_reason).toEqual({ type: 'requires_action', event_ids: [use!.id] });

    const unknown = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_1234', content: [] }],
      }),
    );
    expect(unknown.status).toBe(400);
    const confirmation = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: use!.id, result: 'allow' }],
      }),
    );
    expect(confirmation.status).toBe(400);
    const oversized = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [
          {
            type: 'user.custom_tool_result',
            custom_tool_use_id: use!.id,
            content: [
              { type: 'text', text: 'x'.repeat(150_000) },
              { type: 'text', text: 'y'.repeat(150_000) },
            ],
          },
        ],
      }),
    );
    expect(oversized.status).toBe(400);
    expect(oversized.message).toContain('events[0].content');
    expect((await allEvents(sessionId)).filter((event) => event.type === 'user.custom_tool_result')).toEqual([]);

    const sent = await client.beta.sessions.events.send(sessionId, {
      events: [
        { type: 'user.custom_tool_result', custom_tool_use_id: use!.id, content: [{ type: 'text', text: '-12 C' }] },
      ],
    });
    expect(sent.data?.[0]).toMatchObject({ type: 'user.custom_tool_result', custom_tool_use_id: use!.id });
    const done = await waitForEvents(sessionId, (events) => idles(events).length === 2);
    expect(idles(done)[1]?.stop_reason).toEqual({ type: 'end_turn' });
    expect(done.filter((event) => event.type === 'user.custom_tool_result')).toHaveLength(1);
    const toolResult = JSON.stringify(harness.model.requests.at(-1)?.body.messages.at(-1));
    expect(toolResult).toContain('tool_result');
    expect(toolResult).toContain('-12 C');
    const answered = await rejection(
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.custom_tool_result', custom_tool_use_id: use!.id, content: [] }],
      }),
    );
    expect(answered.status).toBe(400);

    // Keel's own client answers too; an error result reaches the model as one.
    harness.model.enqueue(
      { kind: 'tool_use', name: 'get_weather', input: { city: 'Bergen' } },
      { kind: 'text', text: 'No weather today.' },
    );
    await say(sessionId, 'and Bergen?');
    const second = await waitForEvents(sessionId, (events) => idles(events).length === 3);
    const secondUse = second.filter((event) => event.type === 'agent.custom_tool_use').at(-1)!;
    const answer = await harness.client.sendCustomToolResult(sessionId, secondUse.id, 'station offline', {
      isError: true,
    });
    expect(answer).toMatchObject({ type: 'user.custom_tool_result', custom_tool_use_id: secondUse.id, is_error: true });
    await waitForEvents(sessionId, (events) => idles(events).length === 4);
    const errorResult = JSON.stringify(harness.model.requests.at(-1)?.body.messages.at(-1));
    expect(errorResult).toContain('station offline');
    expect(errorResult).toContain('"is_error":true');
    await client.beta.sessions.delete(sessionId);
  });
});

describe('web_fetch: runs in the worker under the environment networking', () => {
  it('fetches from an allowed host (HTML as text) and refuses a host the environment does not list', async () => {
    const site = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html><head><title>Keel page</title></head><body><p>fetched-from-the-worker</p></body></html>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const port = (site.address() as AddressInfo).port;
    try {
      const environment = await client.beta.environments.create({
        name: 'fetch env',
        config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['127.0.0.1'] } },
      });
      const agent = await client.beta.agents.create({
        name: 'fetcher',
        model: 'scripted-model',
        tools: [{ type: 'agent_toolset_20260401' }],
      });
      const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
      harness.model.enqueue(
        {
          kind: 'tool_uses',
          calls: [
            { name: 'web_fetch', input: { url: `http://127.0.0.1:${port}/page` } },
            { name: 'web_fetch', input: { url: `http://localhost:${port}/page` } },
          ],
        },
        { kind: 'text', text: 'Fetched.' },
      );
      await say(session.id, 'fetch the page');
      const events = await waitForEvents(session.id, (log) => idles(log).length === 1);
      expect(offeredTools()).toContain('web_fetch');
      const uses = events.filter((event) => event.type === 'agent.tool_use');
      expect(uses.map((use) => [use.name, use.evaluated_permission])).toEqual([
        ['web_fetch', 'allow'],
        ['web_fetch', 'allow'],
      ]);
      const results = events.filter((event) => event.type === 'agent.tool_result');
      expect(results[0]).toMatchObject({ tool_use_id: uses[0]!.id, is_error: false });
      expect(JSON.stringify(results[0])).toContain('fetched-from-the-worker');
      expect(JSON.stringify(results[0])).not.toContain('<p>');
      expect(results[1]).toMatchObject({ tool_use_id: uses[1]!.id, is_error: true });
      expect(JSON.stringify(results[1])).toContain('localhost');
      // web_fetch never needed a container.
      expect(await harness.docker.listContainers({ all: true, filters: { name: [`keel-${session.id}`] } })).toEqual([]);
      await client.beta.sessions.delete(session.id);
    } finally {
      await new Promise((resolve) => site.close(resolve));
    }
  });
});
