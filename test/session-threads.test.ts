import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type {
  BetaManagedAgentsSessionThread,
  BetaManagedAgentsStreamSessionThreadEvents,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter, untilLog } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  const agent = await client.beta.agents.create({
    name: 'thread agent',
    model: 'scripted-model',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  agentId = agent.id;
  environmentId = (await client.beta.environments.create({ name: 'threads env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

/** The primary thread id Keel derives from a session id: `sthr_` + the session id's suffix. */
function primaryThreadOf(sessionId: string): string {
  return `sthr_${sessionId.slice('sesn_'.length)}`;
}

/** Every event of a thread, listed through the SDK's auto-paging over `sessions.threads.events.list`. */
async function allThreadEvents(sessionId: string, threadId: string, limit?: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const event of client.beta.sessions.threads.events.list(threadId, {
    session_id: sessionId,
    ...(limit === undefined ? {} : { limit }),
  })) {
    ids.push(event.id);
  }
  return ids;
}

/** Reads a thread stream until `session.status_idle`; returns every item, previews included. */
async function readUntilIdle(
  stream: AsyncIterable<BetaManagedAgentsStreamSessionThreadEvents>,
): Promise<BetaManagedAgentsStreamSessionThreadEvents[]> {
  const items: BetaManagedAgentsStreamSessionThreadEvents[] = [];
  for await (const item of stream) {
    items.push(item);
    if (item.type === 'session.status_idle') break;
  }
  return items;
}

/** A session on the test agent that ran one turn with a bash tool step; returns it with the turn's events. */
async function sessionWithToolStep(): Promise<{ sessionId: string; events: BetaManagedAgentsSessionEvent[] }> {
  const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
  harness.model.enqueue(
    { kind: 'tool_use', name: 'bash', input: { command: 'echo thread-step' } },
    { kind: 'text', text: 'The step ran.' },
  );
  const sent = await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'run a step' }] }],
  });
  const events = await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
  return { sessionId: session.id, events };
}

describe('sessions.threads: the primary thread of every Keel session, through the official SDK', () => {
  it('lists, retrieves and filters the primary thread of a session that ran a tool step, as the session shows it', async () => {
    const { sessionId, events } = await sessionWithToolStep();
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['agent.tool_use', 'agent.tool_result']));
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: false });
    expect(JSON.stringify(result)).toContain('thread-step');
    const threadId = primaryThreadOf(sessionId);
    const session = await client.beta.sessions.retrieve(sessionId);

    const page = await client.beta.sessions.threads.list(sessionId);
    expect(page.data).toHaveLength(1);
    expect(page.next_page).toBeNull();
    const listed = page.data[0] as BetaManagedAgentsSessionThread;
    const { multiagent: _multiagent, ...sessionAgent } = session.agent;
    expect(listed).toMatchObject({
      id: threadId,
      type: 'session_thread',
      session_id: sessionId,
      status: 'idle',
      parent_thread_id: null,
      workflow_run_id: null,
      archived_at: null,
      created_at: session.created_at,
      updated_at: session.updated_at,
      usage: session.usage,
    });
    expect(listed.agent).toEqual(sessionAgent);
    expect(listed.agent).toMatchObject({
      id: agentId,
      type: 'agent',
      version: 1,
      name: 'thread agent',
      model: { id: 'scripted-model' },
      execution_identity: session.agent.execution_identity,
    });
    expect(listed.agent).not.toHaveProperty('multiagent');
    expect(listed.usage?.input_tokens).toBeGreaterThan(0);
    expect(listed.stats?.active_seconds).toBe(session.stats.active_seconds);
    expect(listed.stats?.duration_seconds).toBeGreaterThan(0);

    const retrieved = await client.beta.sessions.threads.retrieve(threadId, { session_id: sessionId });
    expect({ ...retrieved, stats: null }).toEqual({ ...listed, stats: null });

    expect((await client.beta.sessions.threads.list(sessionId, { statuses: ['idle'] })).data).toHaveLength(1);
    expect((await client.beta.sessions.threads.list(sessionId, { statuses: ['running', 'terminated'] })).data).toEqual(
      [],
    );
    const threads: string[] = [];
    for await (const thread of client.beta.sessions.threads.list(sessionId, { limit: 1 })) threads.push(thread.id);
    expect(threads).toEqual([threadId]);

    const badStatus = await rejection(
      client.beta.sessions.threads.list(sessionId, { statuses: ['sleeping' as 'idle'] }),
    );
    expect(badStatus).toBeInstanceOf(Anthropic.BadRequestError);
    expect(badStatus.error).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('statuses[]') },
    });
    const badLimit = await rejection(client.beta.sessions.threads.list(sessionId, { limit: 0 }));
    expect(badLimit).toBeInstanceOf(Anthropic.BadRequestError);
    expect(badLimit.message).toContain('limit');
  });

  it("lists the thread's events as the session's, and streams a new turn live (deltas, no replay, Last-Event-ID resume)", async () => {
    const { sessionId } = await sessionWithToolStep();
    const threadId = primaryThreadOf(sessionId);
    const before = (await allSessionEvents(client, sessionId)).map((event) => event.id);
    expect(await allThreadEvents(sessionId, threadId)).toEqual(before);
    // Small pages walk the same log through `next_page`.
    expect(await allThreadEvents(sessionId, threadId, 3)).toEqual(before);

    const stream = await client.beta.sessions.threads.events.stream(threadId, {
      session_id: sessionId,
      event_deltas: ['agent.message'],
    });
    const reading = readUntilIdle(stream);
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo streamed-step' } },
      { kind: 'text', text: 'A reply streamed on the primary thread.' },
    );
    const sent = await client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'talk on the thread' }] }],
    });
    const items = await reading;
    stream.controller.abort();

    const logged = items.filter((item) => item.type !== 'event_start' && item.type !== 'event_delta');
    expect(logged[0]).toMatchObject({ type: 'user.message', id: sent.data?.[0]?.id });
    expect(logged.map((item) => item.type)).toEqual(
      expect.arrayContaining([
        'user.message',
        'session.status_running',
        'agent.tool_use',
        'agent.tool_result',
        'agent.message',
        'session.status_idle',
      ]),
    );
    // No replay: nothing logged before the stream opened comes down it.
    expect(logged.filter((item) => 'id' in item && before.includes(item.id))).toEqual([]);
    expect(JSON.stringify(logged.find((item) => item.type === 'agent.tool_result'))).toContain('streamed-step');
    const message = logged.find((item) => item.type === 'agent.message');
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'A reply streamed on the primary thread.' }] });
    const deltas = items.flatMap((item) =>
      item.type === 'event_delta' && item.event_id === message?.id && item.delta.content.type === 'text'
        ? [item.delta.content.text]
        : [],
    );
    expect(items.some((item) => item.type === 'event_start' && item.event.id === message?.id)).toBe(true);
    expect(deltas.join('')).toBe('A reply streamed on the primary thread.');
    const after = (await allSessionEvents(client, sessionId)).map((event) => event.id);
    expect(await allThreadEvents(sessionId, threadId)).toEqual(after);
    expect(after.slice(before.length, before.length + logged.length)).toEqual(
      logged.map((item) => 'id' in item && item.id),
    );

    // With Last-Event-ID the thread's stream resumes right after that event: the new turn, from its user.message.
    const resumed = await client.beta.sessions.threads.events.stream(
      threadId,
      { session_id: sessionId },
      { headers: { 'Last-Event-ID': before.at(-1) ?? '' } },
    );
    const replayed = await readUntilIdle(resumed);
    resumed.controller.abort();
    expect(replayed.map((item) => 'id' in item && item.id)).toEqual(
      after.slice(before.length, before.length + replayed.length),
    );
    expect(replayed[0]).toMatchObject({ type: 'user.message', id: sent.data?.[0]?.id });
  });

  it("answers 404 for an unknown thread and for another session's thread, and 400 for archiving the primary thread", async () => {
    const first = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const second = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const firstThread = primaryThreadOf(first.id);
    const expectNotFound = async (call: Promise<unknown>, threadId: string): Promise<void> => {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(Anthropic.NotFoundError);
      expect(error.error).toEqual({
        type: 'error',
        error: { type: 'not_found_error', message: expect.stringContaining(threadId) },
      });
    };
    for (const threadId of ['sthr_unknown0000000000', firstThread]) {
      await expectNotFound(client.beta.sessions.threads.retrieve(threadId, { session_id: second.id }), threadId);
      await expectNotFound(client.beta.sessions.threads.archive(threadId, { session_id: second.id }), threadId);
      await expectNotFound(client.beta.sessions.threads.events.list(threadId, { session_id: second.id }), threadId);
      await expectNotFound(client.beta.sessions.threads.events.stream(threadId, { session_id: second.id }), threadId);
    }
    const missingSession = 'sesn_000000000000000000';
    await expectNotFound(client.beta.sessions.threads.list(missingSession), missingSession);
    await expectNotFound(
      client.beta.sessions.threads.retrieve(primaryThreadOf(missingSession), { session_id: missingSession }),
      missingSession,
    );

    const archive = await rejection(client.beta.sessions.threads.archive(firstThread, { session_id: first.id }));
    expect(archive).toBeInstanceOf(Anthropic.BadRequestError);
    expect(archive.error).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('the primary thread cannot be archived'),
      },
    });
    // The refusal changed nothing.
    expect(await client.beta.sessions.threads.retrieve(firstThread, { session_id: first.id })).toMatchObject({
      archived_at: null,
      status: 'idle',
    });
    expect((await client.beta.sessions.retrieve(first.id)).archived_at).toBeNull();
  });

  it('takes a user.interrupt naming the primary thread as one naming none, and refuses any other thread', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const threadId = primaryThreadOf(session.id);
    harness.model.enqueue({ kind: 'hang' });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'think forever' }] }],
    });
    await untilLog(client, session.id, (events) => events.some((event) => event.type === 'span.model_request_start'), {
      what: 'the model call',
    });
    expect(await client.beta.sessions.threads.retrieve(threadId, { session_id: session.id })).toMatchObject({
      status: 'running',
    });
    expect((await client.beta.sessions.threads.list(session.id, { statuses: ['running'] })).data).toHaveLength(1);

    const other = await rejection(
      client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.interrupt', session_thread_id: 'sthr_someotherthread00' }],
      }),
    );
    expect(other).toBeInstanceOf(Anthropic.NotFoundError);
    expect(other.error).toEqual({
      type: 'error',
      error: {
        type: 'not_found_error',
        message: expect.stringMatching(/^events\[0\]\.session_thread_id: No thread sthr_someotherthread00 /),
      },
    });

    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.interrupt', session_thread_id: threadId }],
    });
    expect(sent.data).toEqual([
      { type: 'user.interrupt', id: expect.stringMatching(/^sevt_/), processed_at: expect.any(String) },
    ]);
    const events = await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    expect(events.filter((event) => event.type === 'user.interrupt').map((event) => event.id)).toEqual([
      sent.data?.[0]?.id,
    ]);
    expect(await client.beta.sessions.threads.retrieve(threadId, { session_id: session.id })).toMatchObject({
      status: 'idle',
    });
  });
});
