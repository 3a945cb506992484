import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { listAllEvents, sendAndWait, sessionContainers, startTestStack, typesOf } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
const sessions: string[] = [];

beforeAll(async () => {
  harness = await startTestStack();
});

afterEach(() => {
  expect(harness.model.remaining(), 'every scripted model reply was used').toBe(0);
});

afterAll(async () => {
  for (const id of sessions) await harness.client.endSession(id).catch(() => undefined);
  await harness?.stop();
});

async function newSession(title: string): Promise<string> {
  const session = await harness.client.createSession({ title });
  sessions.push(session.id);
  expect(session.status).toBe('idle');
  return session.id;
}

function toolResultText(event: SessionEvent | undefined): string {
  if (event?.type !== 'agent.tool_result') throw new Error(`expected agent.tool_result, got ${event?.type}`);
  return (event.content ?? []).map((block) => ('text' in block ? block.text : '')).join('');
}

describe('session turns against Temporal, Docker and the scripted model', () => {
  it('text-only turn: logs the hosted events in order, goes idle with end_turn and creates no container', async () => {
    const sessionId = await newSession('text only');
    harness.model.enqueue({ kind: 'text', text: 'Hello from the model.' });
    const { events, idle } = await sendAndWait(harness.client, sessionId, 'Say hello');

    expect(typesOf(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    const message = events.find((event) => event.type === 'agent.message');
    expect(message).toMatchObject({ content: [{ type: 'text', text: 'Hello from the model.' }] });
    const end = events.find((event) => event.type === 'span.model_request_end');
    expect(end).toMatchObject({ is_error: false, model_request_start_id: events[2]?.id });
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(await sessionContainers(harness.docker, sessionId)).toHaveLength(0);

    const session = await harness.client.getSession(sessionId);
    expect(session.status).toBe('idle');
    expect(session.usage.output_tokens).toBeGreaterThan(0);
    const request = harness.model.requests.at(-1);
    expect(request?.body.messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('bash tool turn: logs tool_use and tool_result with the output, and a file written in one turn is read in the next', async () => {
    const sessionId = await newSession('bash tool');
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        input: { command: 'echo keel-works > note.txt && cat note.txt' },
        text: 'Writing a note.',
      },
      { kind: 'text', text: 'Wrote the note.' },
    );
    const first = await sendAndWait(harness.client, sessionId, 'write a note');
    expect(typesOf(first.events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'agent.tool_use',
      'agent.tool_result',
      'span.model_request_start',
      'span.model_request_end',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    const toolUse = first.events[5];
    expect(toolUse).toMatchObject({
      type: 'agent.tool_use',
      name: 'bash',
      input: { command: 'echo keel-works > note.txt && cat note.txt' },
    });
    expect(first.events[6]).toMatchObject({ type: 'agent.tool_result', tool_use_id: toolUse?.id, is_error: false });
    expect(toolResultText(first.events[6])).toContain('keel-works');
    const secondRequest = harness.model.requests.at(-1)?.body.messages.at(-1);
    expect(JSON.stringify(secondRequest)).toContain('keel-works');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'read', input: { file_path: 'note.txt' } },
      { kind: 'text', text: 'Read it.' },
    );
    const second = await sendAndWait(harness.client, sessionId, 'read the note');
    const result = second.events.find((event) => event.type === 'agent.tool_result');
    expect(toolResultText(result)).toContain('keel-works');
    expect(await sessionContainers(harness.docker, sessionId)).toHaveLength(1);
  });

  it('several messages sent while a turn runs are processed in order, one turn each', async () => {
    const sessionId = await newSession('queue');
    harness.model.enqueue(
      { kind: 'text', text: 'first answer', delayMs: 500 },
      { kind: 'text', text: 'second answer' },
      { kind: 'text', text: 'third answer' },
    );
    await harness.client.sendMessage(sessionId, 'one');
    await harness.client.sendMessage(sessionId, 'two');
    const { events } = await sendAndWait(harness.client, sessionId, 'three');
    // 'three' is logged while the first turn runs, so the idle that follows it may be the first turn's: wait for all.
    let all = await listAllEvents(harness.client, sessionId);
    for (
      let attempt = 0;
      attempt < 100 && all.filter((event) => event.type === 'session.status_idle').length < 3;
      attempt++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      all = await listAllEvents(harness.client, sessionId);
    }
    const messages = all
      .filter((event) => event.type === 'agent.message')
      .map((event) =>
        event.type === 'agent.message' && event.content[0]?.type === 'text' ? event.content[0].text : '',
      );
    expect(messages).toEqual(['first answer', 'second answer', 'third answer']);
    expect(all.filter((event) => event.type === 'session.status_idle')).toHaveLength(3);
    expect(events.at(-1)?.type).toBe('session.status_idle');
    const userTexts = harness.model.requests.slice(-3).map((request) => JSON.stringify(request.body.messages.at(-1)));
    expect(userTexts[0]).toContain('one');
    expect(userTexts[1]).toContain('two');
    expect(userTexts[2]).toContain('three');
  });

  it('a step cap ends a runaway turn with session.error tool_use_limit_reached_error and idle retries_exhausted', async () => {
    const capped = await startTestStack({ environment: { KEEL_MAX_STEPS_PER_TURN: '2' } });
    try {
      const session = await capped.client.createSession({ title: 'step cap' });
      capped.model.enqueue(
        { kind: 'tool_use', name: 'bash', input: { command: 'true' } },
        { kind: 'tool_use', name: 'bash', input: { command: 'true' } },
      );
      const { events, idle } = await sendAndWait(capped.client, session.id, 'loop forever');
      const error = events.find((event) => event.type === 'session.error');
      expect(error).toMatchObject({
        error: {
          type: 'tool_use_limit_reached_error',
          message: expect.stringContaining('step limit of 2'),
          retry_status: { type: 'exhausted' },
        },
      });
      // As the SDK documents for tool_use_limit_reached_error: the turn ends with retries_exhausted.
      expect(idle).toMatchObject({ stop_reason: { type: 'retries_exhausted' } });
      expect(capped.model.remaining()).toBe(0);
      await capped.client.endSession(session.id);
    } finally {
      await capped.stop();
    }
  });

  it('100 stream subscribers opened before a message each receive every event once, in log order', async () => {
    const sessionId = await newSession('fan-out');
    const controller = new AbortController();
    const received: string[][] = Array.from({ length: 100 }, () => []);
    const followers = received.map(async (events) => {
      for await (const item of harness.client.events(sessionId, { signal: controller.signal })) {
        if (item.kind === 'event') events.push(item.event.id);
      }
    });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo fan-out' } },
      { kind: 'text', text: 'done' },
    );
    await sendAndWait(harness.client, sessionId, 'fan out');
    const logged = (await listAllEvents(harness.client, sessionId)).map((event) => event.id);
    for (let attempt = 0; attempt < 50 && received.some((events) => events.length < logged.length); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort();
    await Promise.all(followers);
    for (const events of received) expect(events).toEqual(logged);
  });

  it('a stream opened and not yet read survives garbage collection: it still delivers every event of the turn', async () => {
    const sessionId = await newSession('gc');
    const controller = new AbortController();
    const streams = await Promise.all(
      Array.from({ length: 5 }, () => harness.client.openEvents(sessionId, { signal: controller.signal })),
    );
    // undici cancels the body of a collected Response unless it is locked (nodejs/undici#3199); force that moment.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 200));
    harness.model.enqueue({ kind: 'text', text: 'still here' });
    await harness.client.sendMessage(sessionId, 'after gc');
    const received = await Promise.all(
      streams.map(async (stream) => {
        const types: string[] = [];
        for await (const item of stream) {
          if (item.kind !== 'event') continue;
          types.push(item.event.type);
          if (item.event.type === 'session.status_idle') break;
        }
        return types;
      }),
    );
    controller.abort();
    for (const types of received) expect(types.at(-1)).toBe('session.status_idle');
  });

  it('ending a session destroys its sandbox and volume and logs session.status_terminated, then session.deleted', async () => {
    const sessionId = await newSession('end');
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo x' } },
      { kind: 'text', text: 'done' },
    );
    await sendAndWait(harness.client, sessionId, 'make a container');
    expect(await sessionContainers(harness.docker, sessionId)).toHaveLength(1);
    await harness.client.endSession(sessionId);
    expect(await sessionContainers(harness.docker, sessionId)).toHaveLength(0);
    const volumes = await harness.docker.listVolumes({ filters: { name: [sessionId] } });
    expect(volumes.Volumes ?? []).toHaveLength(0);
    const all = await listAllEvents(harness.client, sessionId);
    expect(all.slice(-2).map((event) => event.type)).toEqual(['session.status_terminated', 'session.deleted']);
    expect((await harness.client.getSession(sessionId)).status).toBe('terminated');
  });
});
