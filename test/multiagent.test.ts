import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsSessionThreadAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsSessionThread } from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiagentResponder } from './support/multiagent-responder';
import type { ThreadRequest } from './support/multiagent-responder';
import type { ScriptedReply } from './scripted-model-server';
import { shapeProblems, threadStatsShape, threadUsageShape } from './support/conformance';
import type { Shape } from './support/conformance';
import { rejection, sdkClient } from './support/sdk';
import { execInSandbox, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const COORDINATOR_SYSTEM = 'You are the coordinator of the multiagent test.';
const REVIEWER_SYSTEM = 'You are the reviewer of the multiagent test.';

/** The thread id the coordinator's model sends follow-ups to, set by the test once the thread exists. */
let followUpThread = '';

/** The coordinator's model: delegates, waits, reads what the reviewer wrote, and answers each thread reply. */
function coordinatorScript({ text, toolResultsOf }: ThreadRequest): ScriptedReply | undefined {
  if (text.includes('from-child-reply-1')) {
    return { kind: 'tool_use', name: 'bash', input: { command: 'cat /workspace/child.txt' } };
  }
  if (text.includes('from-child-reply-2')) return { kind: 'text', text: 'Second round done.' };
  if (text.includes('Message from thread')) return { kind: 'text', text: 'Noted the thread reply.' };
  if (toolResultsOf.includes('bash')) return { kind: 'text', text: 'The coordinator saw the file.' };
  if (toolResultsOf.some((name) => name === 'spawn_agent' || name === 'send_to_thread')) {
    return { kind: 'text', text: 'Waiting for the reviewer.' };
  }
  if (text.includes('Delegate the review')) {
    return {
      kind: 'tool_use',
      name: 'spawn_agent',
      input: { agent_name: 'reviewer', message: 'Write the child file.' },
    };
  }
  if (text.includes('Follow up')) {
    return {
      kind: 'tool_use',
      name: 'send_to_thread',
      input: { session_thread_id: followUpThread, message: 'Second task: summarise.' },
    };
  }
  if (text.includes('Start two reviewers')) {
    return {
      kind: 'tool_uses',
      calls: [
        { name: 'spawn_agent', input: { agent_name: 'reviewer', message: 'Hang on this task.' } },
        { name: 'spawn_agent', input: { agent_name: 'reviewer', message: 'Quick task.' } },
      ],
    };
  }
  return undefined;
}

/** The reviewer's model: one bash step then a reply, a plain reply to a follow-up, and a call that never ends. */
function reviewerScript({ text, toolResultsOf }: ThreadRequest): ScriptedReply | undefined {
  if (toolResultsOf.includes('bash')) return { kind: 'text', text: 'from-child-reply-1: wrote /workspace/child.txt' };
  if (text.includes('Write the child file')) {
    return { kind: 'tool_use', name: 'bash', input: { command: 'echo from-child > /workspace/child.txt' } };
  }
  if (text.includes('Second task')) return { kind: 'text', text: 'from-child-reply-2: summary ready' };
  if (text.includes('Hang on this task')) return { kind: 'hang' };
  if (text.includes('Quick task')) return { kind: 'text', text: 'quick-reply' };
  return undefined;
}

const responder = new MultiagentResponder({
  coordinator: { system: COORDINATOR_SYSTEM, script: coordinatorScript },
  reviewer: { system: REVIEWER_SYSTEM, script: reviewerScript },
});

let harness: TestStack;
let client: Anthropic;
let coordinatorId: string;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack({ model: { respond: responder.respond } });
  client = sdkClient(harness.stack.apiUrl);
  const alwaysAllow = {
    type: 'agent_toolset_20260401' as const,
    default_config: { permission_policy: { type: 'always_allow' as const } },
  };
  const reviewer = await client.beta.agents.create({
    name: 'reviewer',
    model: 'scripted-model',
    system: REVIEWER_SYSTEM,
    tools: [alwaysAllow],
  });
  const coordinator = await client.beta.agents.create({
    name: 'coordinator',
    model: 'scripted-model',
    system: COORDINATOR_SYSTEM,
    tools: [alwaysAllow],
    multiagent: { type: 'coordinator', agents: [reviewer.id] },
  });
  coordinatorId = coordinator.id;
  environmentId = (await client.beta.environments.create({ name: 'multiagent', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

/** The primary thread id Keel derives from a session id: `sthr_` + the session id's suffix. */
function primaryThreadOf(sessionId: string): string {
  return `sthr_${sessionId.slice('sesn_'.length)}`;
}

/** An event as a loose record, for the thread events the SDK types do not all name. */
type LooseEvent = BetaManagedAgentsSessionEvent & Record<string, unknown>;

/**
 * Reads `stream` until an event satisfies `last` (returned with everything before it, previews left out), or fails
 * after `timeoutMs` naming the event types seen.
 */
async function readUntil(
  stream: AsyncIterable<unknown> & { controller: AbortController },
  last: (event: LooseEvent) => boolean,
  timeoutMs = 60_000,
): Promise<LooseEvent[]> {
  const events: LooseEvent[] = [];
  const timer = setTimeout(() => stream.controller.abort(), timeoutMs);
  try {
    for await (const item of stream) {
      const event = item as LooseEvent;
      const type: string = event.type;
      if (type === 'event_start' || type === 'event_delta') continue;
      events.push(event);
      if (last(event)) return events;
    }
  } catch (error) {
    if (!stream.controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    stream.controller.abort();
  }
  throw new Error(`the stream ended first; it carried ${JSON.stringify(events.map((event) => event.type))}`);
}

/**
 * Reads `stream` to its end, previews left out: the events, and whether the server ended it before `timeoutMs`.
 */
async function readToEnd(
  stream: AsyncIterable<unknown> & { controller: AbortController },
  timeoutMs: number,
): Promise<{ events: LooseEvent[]; endedByServer: boolean }> {
  const events: LooseEvent[] = [];
  const timer = setTimeout(() => stream.controller.abort(), timeoutMs);
  try {
    for await (const item of stream) {
      const event = item as LooseEvent;
      const type: string = event.type;
      if (type !== 'event_start' && type !== 'event_delta') events.push(event);
    }
    return { events, endedByServer: !stream.controller.signal.aborted };
  } catch (error) {
    if (!stream.controller.signal.aborted) throw error;
    return { events, endedByServer: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Every event of a thread, through the SDK's auto-paging. */
async function threadEvents(sessionId: string, threadId: string): Promise<LooseEvent[]> {
  const events: LooseEvent[] = [];
  for await (const event of client.beta.sessions.threads.events.list(threadId, { session_id: sessionId })) {
    events.push(event as LooseEvent);
  }
  return events;
}

/** Polls `read` every 100 ms until `done` holds for what it returns (30 s at most), naming `what` when it never does. */
async function until<Value>(read: () => Promise<Value>, done: (value: Value) => boolean, what: string): Promise<Value> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The text of a thread message event's content. */
function textOf(event: LooseEvent | undefined): string {
  const content = (event?.['content'] ?? []) as Array<{ type: string; text?: string }>;
  return content.map((block) => block.text ?? '').join('\n');
}

/** A child thread as the SDK types it: like the primary thread's shape, with a parent and an `archived_at` time. */
const childThreadShape: Shape<BetaManagedAgentsSessionThread> = {
  id: { id: 'sthr_' },
  type: { literal: 'session_thread' },
  session_id: { id: 'sesn_' },
  status: 'string',
  agent: 'object',
  parent_thread_id: { id: 'sthr_' },
  workflow_run_id: 'null',
  stats: 'object',
  usage: 'object',
  created_at: 'string',
  updated_at: 'string',
  archived_at: ['null', 'string'],
};

const childAgentShape: Shape<BetaManagedAgentsSessionThreadAgent> = {
  id: { id: 'agent_' },
  type: { literal: 'agent' },
  version: 'number',
  name: 'string',
  description: ['string', 'null'],
  model: 'object',
  system: ['string', 'null'],
  tools: 'array',
  mcp_servers: 'array',
  skills: 'array',
  execution_identity: 'object',
};

/** The problems of a child thread object against the SDK's types (`[]` when it conforms). */
function childThreadProblems(thread: BetaManagedAgentsSessionThread): string[] {
  return [
    ...shapeProblems(thread, childThreadShape, 'thread'),
    ...shapeProblems(thread.agent, childAgentShape, 'thread.agent'),
    ...shapeProblems(thread.stats, threadStatsShape, 'thread.stats'),
    ...shapeProblems(thread.usage, threadUsageShape, 'thread.usage'),
  ];
}

/** The types that trace a delegation on the session's stream, in the order the test expects them. */
const DELEGATION_TYPES = new Set([
  'user.message',
  'session.status_running',
  'session.thread_created',
  'agent.thread_message_sent',
  'session.thread_status_running',
  'session.thread_status_idle',
  'agent.thread_message_received',
  'session.status_idle',
]);

describe('multiagent sessions: a coordinator and its child threads, through the official SDK', () => {
  it('delegates to a reviewer thread sharing the sandbox, goes idle after it, and a follow-up reaches the same thread', async () => {
    const session = await client.beta.sessions.create({ agent: coordinatorId, environment_id: environmentId });
    const primary = primaryThreadOf(session.id);
    const stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Delegate the review to the reviewer.' }] }],
    });
    const round = await readUntil(stream, (event) => event.type === 'session.status_idle');

    expect(round.filter((event) => DELEGATION_TYPES.has(event.type)).map((event) => event.type)).toEqual([
      'user.message',
      'session.status_running',
      'session.thread_created',
      'agent.thread_message_sent',
      'session.thread_status_running',
      // The Workflow cross-posts the reply before the idle, as the child's own log has its message before its idle.
      'agent.thread_message_received',
      'session.thread_status_idle',
      'session.status_idle',
    ]);
    const created = round.find((event) => event.type === 'session.thread_created');
    const childId = String(created?.['session_thread_id']);
    expect(childId).toMatch(/^sthr_/);
    expect(childId).not.toBe(primary);
    expect(created).toMatchObject({ agent_name: 'reviewer' });
    const sent = round.find((event) => event.type === 'agent.thread_message_sent');
    expect(sent).toMatchObject({ to_session_thread_id: childId, to_agent_name: 'reviewer' });
    expect(textOf(sent)).toContain('Write the child file.');
    for (const type of ['session.thread_status_running', 'session.thread_status_idle']) {
      expect(round.find((event) => event.type === type)).toMatchObject({
        session_thread_id: childId,
        agent_name: 'reviewer',
      });
    }
    const received = round.find((event) => event.type === 'agent.thread_message_received');
    expect(received).toMatchObject({ from_session_thread_id: childId, from_agent_name: 'reviewer' });
    expect(textOf(received)).toContain('from-child-reply-1');
    expect(round.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });

    // The coordinator ran a turn on the reply: its next model request carried the reviewer's text, and its bash step
    // saw the file the reviewer wrote in the shared sandbox.
    const onReply = responder.of('coordinator').find((request) => request.text.includes('from-child-reply-1'));
    expect(onReply, 'a coordinator request carrying the reply').toBeDefined();
    const bashCall = round.find((event) => event.type === 'agent.tool_use' && event['name'] === 'bash');
    const bashResult = round.find(
      (event) => event.type === 'agent.tool_result' && event['tool_use_id'] === bashCall?.id,
    );
    expect(JSON.stringify(bashResult?.['content'])).toContain('from-child');
    expect(bashResult).toMatchObject({ is_error: false });
    expect(await execInSandbox(harness.docker, session.id, ['cat', '/workspace/child.txt'])).toContain('from-child');
    expect(round.filter((event) => event.type === 'agent.message').map(textOf)).toContain(
      'The coordinator saw the file.',
    );

    // The threads: the primary, then the child, whose parent is the primary.
    const page = await client.beta.sessions.threads.list(session.id);
    expect(page.data.map((thread) => thread.id)).toEqual([primary, childId]);
    const child = page.data[1] as BetaManagedAgentsSessionThread;
    expect(page.data[0]).toMatchObject({ parent_thread_id: null, status: 'idle' });
    expect(child).toMatchObject({
      id: childId,
      type: 'session_thread',
      session_id: session.id,
      parent_thread_id: primary,
      status: 'idle',
      archived_at: null,
      workflow_run_id: null,
      agent: { type: 'agent', name: 'reviewer', system: REVIEWER_SYSTEM },
    });
    expect(childThreadProblems(child)).toEqual([]);
    // The session's usage counts both threads' model calls; each thread shows its own share.
    const sessionUsage = (await client.beta.sessions.retrieve(session.id)).usage;
    expect((page.data[0]?.usage?.input_tokens ?? 0) + (child.usage?.input_tokens ?? 0)).toBe(sessionUsage.input_tokens);
    expect((page.data[0]?.usage?.output_tokens ?? 0) + (child.usage?.output_tokens ?? 0)).toBe(
      sessionUsage.output_tokens,
    );
    expect(child.usage?.input_tokens).toBeGreaterThan(0);
    expect(child.stats?.duration_seconds).toBeGreaterThan(0);
    expect(child.stats?.active_seconds).toBeGreaterThan(0);
    const retrieved = await client.beta.sessions.threads.retrieve(childId, { session_id: session.id });
    expect({ ...retrieved, stats: null }).toEqual({ ...child, stats: null });
    expect((await client.beta.sessions.threads.list(session.id, { statuses: ['idle'] })).data).toHaveLength(2);
    expect((await client.beta.sessions.threads.list(session.id, { statuses: ['running'] })).data).toEqual([]);
    const paged: string[] = [];
    for await (const thread of client.beta.sessions.threads.list(session.id, { limit: 1 })) paged.push(thread.id);
    expect(paged).toEqual([primary, childId]);

    // The child's own log: the coordinator's message, its turn, and its reply to the primary thread.
    const own = await threadEvents(session.id, childId);
    const ownTypes = own.map((event) => event.type);
    expect(ownTypes.slice(0, 2)).toEqual(['agent.thread_message_received', 'session.thread_status_running']);
    expect(ownTypes.slice(-2)).toEqual(['agent.thread_message_sent', 'session.thread_status_idle']);
    expect(ownTypes).toEqual(expect.arrayContaining(['agent.tool_use', 'agent.tool_result', 'agent.message']));
    expect(own[0]).toMatchObject({ from_session_thread_id: primary });
    expect(own[0]).not.toHaveProperty('from_agent_name');
    expect(textOf(own[0])).toContain('Write the child file.');
    expect(own.at(-2)).toMatchObject({ to_session_thread_id: primary });
    expect(textOf(own.at(-2))).toBe('from-child-reply-1: wrote /workspace/child.txt');
    expect(own.find((event) => event.type === 'agent.tool_use')).toMatchObject({ name: 'bash' });
    // The primary thread's events are the session's.
    const primaryIds = (await threadEvents(session.id, primary)).map((event) => event.id);
    expect(primaryIds).toContain(created?.id);

    // A follow-up: send_to_thread reaches the same thread, which keeps its first turn; its stream shows the turn live.
    followUpThread = childId;
    const childStream = await client.beta.sessions.threads.events.stream(childId, { session_id: session.id });
    const sessionStream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Follow up with the reviewer.' }] }],
    });
    const childTurn = await readUntil(childStream, (event) => event.type === 'session.thread_status_idle');
    expect(childTurn.map((event) => event.type)).toEqual(
      expect.arrayContaining(['agent.thread_message_received', 'session.thread_status_running', 'agent.message']),
    );
    expect(textOf(childTurn.find((event) => event.type === 'agent.thread_message_received'))).toContain('Second task');
    const secondRound = await readUntil(sessionStream, (event) => event.type === 'session.status_idle');
    expect(secondRound.find((event) => event.type === 'agent.thread_message_sent')).toMatchObject({
      to_session_thread_id: childId,
    });
    expect(secondRound.some((event) => event.type === 'session.thread_created')).toBe(false);
    expect(textOf(secondRound.find((event) => event.type === 'agent.thread_message_received'))).toContain(
      'from-child-reply-2',
    );
    const second = responder.of('reviewer').find((request) => request.text.includes('Second task'));
    expect(second?.json).toContain('Write the child file.');
    expect(second?.json).toContain('from-child-reply-1');
    expect((await client.beta.sessions.threads.list(session.id)).data.map((thread) => thread.id)).toEqual([
      primary,
      childId,
    ]);
    await client.beta.sessions.delete(session.id);
  });

  it('interrupts one child thread, refuses to archive it while it runs, archives it idle, and terminates children on delete', async () => {
    const session = await client.beta.sessions.create({ agent: coordinatorId, environment_id: environmentId });
    const primary = primaryThreadOf(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Start two reviewers.' }] }],
    });
    const threads = await until(
      async () => (await client.beta.sessions.threads.list(session.id)).data,
      (data) => data.length === 3 && data.some((thread) => thread.status === 'idle' && thread.id !== primary),
      'two child threads, one of them idle',
    );
    const children = threads.slice(1);
    const ownFirst = await Promise.all(children.map((thread) => threadEvents(session.id, thread.id)));
    const hangingIndex = ownFirst.findIndex((events) => textOf(events[0]).includes('Hang on this task'));
    const hanging = children[hangingIndex]?.id ?? '';
    const quick = children[1 - hangingIndex]?.id ?? '';
    expect(hanging).toMatch(/^sthr_/);
    expect(quick).toMatch(/^sthr_/);
    await until(
      () => Promise.resolve(responder.of('reviewer').some((request) => request.text.includes('Hang on this task'))),
      Boolean,
      "the hanging thread's model call",
    );
    expect(await client.beta.sessions.threads.retrieve(hanging, { session_id: session.id })).toMatchObject({
      status: 'running',
    });
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('running');

    const busy = await rejection(client.beta.sessions.threads.archive(hanging, { session_id: session.id }));
    expect(busy).toBeInstanceOf(Anthropic.ConflictError);
    expect(busy.error).toEqual({
      type: 'error',
      error: { type: 'conflict_error', message: expect.stringMatching(new RegExp(`${hanging}.*running`)) },
    });

    const unknown = await rejection(
      client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.interrupt', session_thread_id: 'sthr_notachildthread00' }],
      }),
    );
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.message).toContain('events[0].session_thread_id');

    const interrupt = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.interrupt', session_thread_id: hanging }],
    });
    expect(interrupt.data).toEqual([
      {
        type: 'user.interrupt',
        id: expect.stringMatching(/^sevt_/),
        session_thread_id: hanging,
        processed_at: expect.any(String),
      },
    ]);
    await until(
      () => client.beta.sessions.retrieve(session.id),
      (current) => current.status === 'idle',
      'the session idle after the interrupt',
    );
    expect(
      (await threadEvents(session.id, primary)).find((event) => event.id === interrupt.data?.[0]?.id),
    ).toMatchObject({
      type: 'user.interrupt',
      session_thread_id: hanging,
    });
    const interrupted = await threadEvents(session.id, hanging);
    expect(interrupted.at(-1)).toMatchObject({ type: 'session.thread_status_idle', session_thread_id: hanging });
    expect(await client.beta.sessions.threads.retrieve(quick, { session_id: session.id })).toMatchObject({
      status: 'idle',
      archived_at: null,
    });

    const archived = await client.beta.sessions.threads.archive(hanging, { session_id: session.id });
    expect(archived).toMatchObject({ id: hanging, parent_thread_id: primary, archived_at: expect.any(String) });
    expect(childThreadProblems(archived)).toEqual([]);
    // Archiving ends the thread's Workflow: the thread logs its termination, and shows it, archived.
    const ended = await until(
      () => client.beta.sessions.threads.retrieve(hanging, { session_id: session.id }),
      (thread) => thread.status === 'terminated',
      'the archived thread terminated',
    );
    expect(ended).toMatchObject({ archived_at: archived.archived_at });
    expect((await threadEvents(session.id, hanging)).at(-1)).toMatchObject({
      type: 'session.thread_status_terminated',
      session_thread_id: hanging,
    });
    const primaryArchive = await rejection(client.beta.sessions.threads.archive(primary, { session_id: session.id }));
    expect(primaryArchive).toBeInstanceOf(Anthropic.BadRequestError);

    const stream = await client.beta.sessions.events.stream(session.id);
    const quickStream = await client.beta.sessions.threads.events.stream(quick, { session_id: session.id });
    await client.beta.sessions.delete(session.id);
    const ending = await readUntil(stream, (event) => event.type === 'session.deleted');
    const terminated = ending.filter((event) => event.type === 'session.thread_status_terminated');
    expect(terminated.map((event) => event['session_thread_id'])).toEqual([quick]);
    expect(terminated.every((event) => event['agent_name'] === 'reviewer')).toBe(true);
    // The child's own stream carries its termination, then ends by itself (nothing follows it in that log).
    const quickEnd = await readToEnd(quickStream, 10_000);
    expect(quickEnd.endedByServer).toBe(true);
    expect(quickEnd.events.map((event) => event.type)).toEqual(['session.thread_status_terminated']);
    const quickOwn = await threadEvents(session.id, quick);
    expect(quickOwn.at(-1)).toMatchObject({ type: 'session.thread_status_terminated', session_thread_id: quick });
  });
});
