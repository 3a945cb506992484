import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { execInSandbox, listAllEvents, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { sdkClient } from './support/sdk';
import { startWorkerProcess as startWorkerWith } from './support/worker-process';

let harness: TestStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  harness = await startTestStack({ runWorker: false });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await harness?.stop();
});

/** Starts a worker process of this file's stack. */
function startWorkerProcess(): Promise<ChildProcess> {
  return startWorkerWith(harness.workerEnvironment, children);
}

describe('worker crash', () => {
  it('worker SIGKILLed in the middle of a tool call: a new worker completes the session with no gap and no duplicate', async () => {
    const first = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'worker crash' });
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        input: { command: 'echo started >> runs.log; sleep 4; echo finished >> runs.log; echo ok' },
      },
      { kind: 'text', text: 'survived' },
    );
    const message = await harness.client.sendMessage(sessionId, 'run the slow command');
    const streamed: SessionEvent[] = [];
    const controller = new AbortController();
    const follower = (async () => {
      for await (const item of harness.client.events(sessionId, { signal: controller.signal })) {
        if (item.kind === 'event') streamed.push(item.event);
      }
    })();
    for (let attempt = 0; attempt < 100 && !streamed.some((event) => event.type === 'agent.tool_use'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorkerProcess();
    const idle = await harness.client.waitForIdle(sessionId, message.id);
    expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });

    const events = await listAllEvents(harness.client, sessionId);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(events.filter((event) => event.type === 'agent.tool_use')).toHaveLength(1);
    const results = events.filter((event) => event.type === 'agent.tool_result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ is_error: false });
    expect(JSON.stringify(results[0])).toContain('ok');
    expect(
      events.find((event) => event.type === 'agent.message' && JSON.stringify(event).includes('survived')),
    ).toBeDefined();

    controller.abort();
    await follower;
    expect(streamed.map((event) => event.id)).toEqual(events.slice(0, streamed.length).map((event) => event.id));

    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const runs = await execInSandbox(harness.docker, sessionId, ['cat', '/workspace/runs.log']);
    const started = runs.split('\n').filter((line) => line === 'started').length;
    console.log(`worker crash: the interrupted command started ${started} time(s); runs.log:\n${runs}`);
    expect(started).toBe(2);
    await harness.client.endSession(sessionId);
  });

  it('a tool call held for confirmation survives a SIGKILLed worker: a new worker runs it once it is allowed', async () => {
    const worker = await startWorkerProcess();
    const sdk = sdkClient(harness.stack.apiUrl);
    const agent = await sdk.beta.agents.create({
      name: 'asks first',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    const environment = await sdk.beta.environments.create({ name: 'crash env', config: { type: 'cloud' } });
    const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo confirmed-after-crash' } },
      { kind: 'text', text: 'ran it' },
    );
    const message = await harness.client.sendMessage(session.id, 'run it when allowed');
    const held = await harness.client.waitForIdle(session.id, message.id);
    expect(held).toMatchObject({ stop_reason: { type: 'requires_action' } });
    const toolUseId = (held as { stop_reason: { event_ids: string[] } }).stop_reason.event_ids[0]!;

    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    await startWorkerProcess();
    const sent = await harness.client.confirmToolUse(session.id, toolUseId, 'allow');
    const idle = await harness.client.waitForIdle(session.id, sent.id);
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const events = await listAllEvents(harness.client, session.id);
    const results = events.filter((event) => event.type === 'agent.tool_result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ tool_use_id: toolUseId, is_error: false });
    expect(JSON.stringify(results[0])).toContain('confirmed-after-crash');
    await harness.client.endSession(session.id);
  });

  it('an ended session is read from its archives: every event is listed with no worker running, so none replays it', async () => {
    const worker = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'read after the end' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'seq 1 300' } },
      { kind: 'text', text: 'counted' },
    );
    const message = await harness.client.sendMessage(sessionId, 'count');
    await harness.client.waitForIdle(sessionId, message.id);
    const before = await listAllEvents(harness.client, sessionId, 4);
    await harness.client.endSession(sessionId);
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));

    // A Query of the closed run would wait for a worker to replay it; the archives answer at once.
    const started = Date.now();
    const after = await listAllEvents(harness.client, sessionId, 4);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(-2).map((event) => event.type)).toEqual(['session.status_terminated', 'session.deleted']);
    const result = after.find((event) => event.type === 'agent.tool_result');
    expect(JSON.stringify(result)).toContain('300');
  });
});
