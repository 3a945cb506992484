import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamItem } from '../client';
import type { SessionEvent } from '../common/events';
import { listAllEvents, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack({ environment: { KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '2' } });
});

afterAll(async () => {
  await harness?.stop();
});

describe('continue-as-new', () => {
  it('forced every 2 steps: the events of all runs are listed complete and in order, and the conversation carries over', async () => {
    const { id: sessionId } = await harness.client.createSession({
      title: 'continue-as-new',
      metadata: { kept: 'yes' },
    });
    const streamed: SessionEvent[] = [];
    const controller = new AbortController();
    const follower = (async () => {
      for await (const item of harness.client.events(sessionId, { signal: controller.signal })) {
        if (item.kind === 'event') streamed.push(item.event);
      }
    })();

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 1 >> steps.txt' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 2 >> steps.txt' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 3 >> steps.txt' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'cat steps.txt' } },
      { kind: 'text', text: 'counted' },
      { kind: 'text', text: 'second turn' },
      { kind: 'tool_use', name: 'bash', input: { command: 'wc -l < steps.txt' } },
      { kind: 'text', text: 'third turn' },
    );
    for (const text of ['count to three', 'and again', 'how many lines?']) {
      const message = await harness.client.sendMessage(sessionId, text);
      await harness.client.waitForIdle(sessionId, message.id, { onItem: (_item: StreamItem) => undefined });
    }
    expect(harness.model.remaining()).toBe(0);

    const listed = await listAllEvents(harness.client, sessionId, 5);
    expect(listed.filter((event) => event.type === 'session.status_idle')).toHaveLength(3);
    expect(listed.filter((event) => event.type === 'agent.tool_result')).toHaveLength(5);
    expect(new Set(listed.map((event) => event.id)).size).toBe(listed.length);
    const lastResult = listed.filter((event) => event.type === 'agent.tool_result').at(-1);
    expect(JSON.stringify(lastResult)).toContain('3');

    const session = await harness.client.getSession(sessionId);
    expect(session.metadata).toEqual({ kept: 'yes' });
    expect(session.title).toBe('continue-as-new');

    const runs: string[] = [];
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${sessionId}'` }))
      runs.push(execution.runId);
    expect(runs.length).toBeGreaterThanOrEqual(3);

    const lastRequest = harness.model.requests.at(-1)?.body.messages ?? [];
    expect(JSON.stringify(lastRequest)).toContain('count to three');

    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort();
    await follower;
    expect(streamed.map((event) => event.id)).toEqual(listed.map((event) => event.id));

    const onePage = await harness.client.listEvents(sessionId, { limit: 1000 });
    expect(onePage.data.map((event) => event.id)).toEqual(listed.map((event) => event.id));
    expect(onePage.next_page).toBeNull();
    await harness.client.endSession(sessionId);
  });
});
