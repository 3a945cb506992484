import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeelApiError } from '../client';
import type { StreamItem } from '../client';
import type { SessionEvent } from '../common/events';
import { sandboxContainerName } from '../common/sandbox';
import {
  execInSandbox,
  listAllEvents,
  sendAndWait,
  sessionContainers,
  startTestStack,
  typesOf,
} from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack();
});

afterEach(() => {
  expect(harness.model.remaining(), 'every scripted model reply was used').toBe(0);
});

afterAll(async () => {
  await harness?.stop();
});

/** Follows a session until `predicate` matches an event, collecting what it saw. */
async function waitForEvent(
  sessionId: string,
  predicate: (event: SessionEvent) => boolean,
  after = -1,
): Promise<SessionEvent> {
  const controller = new AbortController();
  try {
    for await (const item of harness.client.events(sessionId, { after, signal: controller.signal })) {
      if (item.kind === 'event' && predicate(item.event)) return item.event;
    }
  } finally {
    controller.abort();
  }
  throw new Error('stream ended first');
}

describe('session failures and steering', () => {
  it('interrupt during `sleep 60`: idle within seconds, the process is gone from the container, and a later message is still processed', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'interrupt tool' });
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    const message = await harness.client.sendMessage(sessionId, 'sleep a minute');
    await waitForEvent(sessionId, (event) => event.type === 'agent.tool_use');
    for (
      let attempt = 0;
      attempt < 50 &&
      !(await execInSandbox(harness.docker, sessionId, ['ps', '-eo', 'args']).catch(() => '')).includes('sleep 60');
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await execInSandbox(harness.docker, sessionId, ['ps', '-eo', 'args'])).toContain('sleep 60');

    const interruptedAt = Date.now();
    await harness.client.interrupt(sessionId);
    const idle = await harness.client.waitForIdle(sessionId, message.id);
    const elapsedMs = Date.now() - interruptedAt;
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    expect(elapsedMs).toBeLessThan(5_000);
    expect(await execInSandbox(harness.docker, sessionId, ['ps', '-eo', 'args'])).not.toContain('sleep 60');
    const events = await listAllEvents(harness.client, sessionId);
    expect(typesOf(events)).toContain('user.interrupt');
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: true });

    harness.model.enqueue({ kind: 'text', text: 'back again' });
    const next = await sendAndWait(harness.client, sessionId, 'are you there?');
    expect(next.events.find((event) => event.type === 'agent.message')).toMatchObject({
      content: [{ text: 'back again' }],
    });
    const lastRequest = harness.model.requests.at(-1)?.body.messages ?? [];
    expect(JSON.stringify(lastRequest)).toContain('Interrupted by the user.');
    await harness.client.endSession(sessionId);
  });

  it('interrupt during a model call: the request is aborted and the session goes idle', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'interrupt model' });
    harness.model.enqueue({ kind: 'hang' });
    const message = await harness.client.sendMessage(sessionId, 'think forever');
    await waitForEvent(sessionId, (event) => event.type === 'span.model_request_start');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const interruptedAt = Date.now();
    await harness.client.interrupt(sessionId);
    await harness.client.waitForIdle(sessionId, message.id);
    expect(Date.now() - interruptedAt).toBeLessThan(3_000);
    for (let attempt = 0; attempt < 50 && harness.model.pendingResponses() > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(harness.model.pendingResponses()).toBe(0);
    await harness.client.endSession(sessionId);
  });

  it('model answers 429 then success: session.status_rescheduled, then the reply', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: '429' });
    harness.model.enqueue(
      { kind: 'error', status: 429, message: 'slow down', retryAfterSeconds: 1 },
      { kind: 'text', text: 'made it' },
    );
    const { events, idle } = await sendAndWait(harness.client, sessionId, 'hello');
    expect(typesOf(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'session.error',
      'session.status_rescheduled',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    expect(events[4]).toMatchObject({
      error: { type: 'model_rate_limited_error', retry_status: { type: 'retrying' } },
    });
    expect(events[3]).toMatchObject({ is_error: true });
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const [first, second] = harness.model.requests.slice(-2);
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
    await harness.client.endSession(sessionId);
  });

  it('model answers 400: session.error without retry, and the session still accepts the next message', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: '400' });
    harness.model.enqueue({ kind: 'error', status: 400, message: 'bad request body' });
    const { events, idle } = await sendAndWait(harness.client, sessionId, 'hello');
    const error = events.find((event) => event.type === 'session.error');
    expect(error).toMatchObject({ error: { type: 'model_request_failed_error', retry_status: { type: 'exhausted' } } });
    expect(error?.type === 'session.error' && error.error.message).toContain('400');
    expect(idle).toMatchObject({ stop_reason: { type: 'retries_exhausted' } });
    expect(events.filter((event) => event.type === 'span.model_request_start')).toHaveLength(1);

    harness.model.enqueue({ kind: 'text', text: 'fine now' });
    const next = await sendAndWait(harness.client, sessionId, 'again');
    expect(next.idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    await harness.client.endSession(sessionId);
  });

  it('bad input through the client: empty message, unknown session, wrong id kind and an ended session get clear errors and change nothing', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'bad input' });
    const before = await listAllEvents(harness.client, sessionId);

    const empty = await harness.client.sendMessage(sessionId, '   ').catch((error: unknown) => error);
    expect(empty).toBeInstanceOf(KeelApiError);
    expect(empty).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      message: expect.stringContaining('events[0].content[0].text'),
    });

    const unknown = await harness.client.sendMessage('sesn_doesnotexist00000', 'hi').catch((error: unknown) => error);
    expect(unknown).toMatchObject({
      status: 404,
      type: 'not_found_error',
      message: expect.stringContaining('sesn_doesnotexist00000'),
    });

    const wrongKind = await harness.client.getSession('agent_0123456789').catch((error: unknown) => error);
    expect(wrongKind).toMatchObject({ status: 400, message: expect.stringContaining('session_id') });

    expect(await listAllEvents(harness.client, sessionId)).toEqual(before);
    await harness.client.endSession(sessionId);
    const ended = await listAllEvents(harness.client, sessionId);
    const late = await harness.client.sendMessage(sessionId, 'too late').catch((error: unknown) => error);
    expect(late).toMatchObject({ status: 409, message: expect.stringContaining('has ended') });
    expect(await listAllEvents(harness.client, sessionId)).toEqual(ended);
  });

  it('container killed between two tool calls: the next call starts a new container and the workspace files are still there', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'cattle' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'write', input: { file_path: 'kept.txt', content: 'survives the container' } },
      { kind: 'text', text: 'written' },
    );
    await sendAndWait(harness.client, sessionId, 'write a file');
    const [first] = await sessionContainers(harness.docker, sessionId);
    await harness.docker.getContainer(sandboxContainerName(sessionId)).kill();

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'cat kept.txt' } },
      { kind: 'text', text: 'read' },
    );
    const { events } = await sendAndWait(harness.client, sessionId, 'read it back');
    const result = events.find((event) => event.type === 'agent.tool_result');
    expect(result).toMatchObject({ is_error: false });
    expect(JSON.stringify(result)).toContain('survives the container');
    const [second] = await sessionContainers(harness.docker, sessionId);
    expect(second?.Id).not.toBe(first?.Id);
    expect(second?.State).toBe('running');
    await harness.client.endSession(sessionId);
  });

  it('container killed during a command: the tool result tells the model, and the next call works', async () => {
    const { id: sessionId } = await harness.client.createSession({ title: 'dies mid-call' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'sleep 30' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo alive' } },
      { kind: 'text', text: 'recovered' },
    );
    const message = await harness.client.sendMessage(sessionId, 'sleep then echo');
    await waitForEvent(sessionId, (event) => event.type === 'agent.tool_use');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await harness.docker.getContainer(sandboxContainerName(sessionId)).kill();
    const seen: SessionEvent[] = [];
    await harness.client.waitForIdle(sessionId, message.id, {
      onItem: (item: StreamItem) => item.kind === 'event' && void seen.push(item.event),
    });
    const results = seen.filter((event) => event.type === 'agent.tool_result');
    expect(results[0]).toMatchObject({ is_error: true });
    expect(JSON.stringify(results[0])).toMatch(/stopped/i);
    expect(results[1]).toMatchObject({ is_error: false });
    expect(JSON.stringify(results[1])).toContain('alive');
    await harness.client.endSession(sessionId);
  });
});
