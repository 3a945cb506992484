import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { execInSandbox, listAllEvents, sessionContainers, startTestStack } from './support/test-stack';
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

/** Kills the workers earlier tests started, so the worker a test kills is the one that runs its Activity. */
async function stopEarlierWorkers(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** The lines of `/workspace/runs.log` in the session's container. */
async function runsLog(sessionId: string): Promise<string[]> {
  const text = await execInSandbox(harness.docker, sessionId, ['cat', '/workspace/runs.log']).catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

/** Polls `check` every 100 ms for up to 60 s. */
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out waiting for a condition');
}

/** Waits until the session's `runs.log` holds `lines`. */
function waitForRunsLog(sessionId: string, lines: string[]): Promise<void> {
  return waitUntil(async () => JSON.stringify(await runsLog(sessionId)) === JSON.stringify(lines));
}

/** Checks the session's log: no duplicate event, one tool call and one result, shaped `result` and containing `text`. */
async function expectOneToolCall(sessionId: string, result: Record<string, unknown>, text: string): Promise<void> {
  const events = await listAllEvents(harness.client, sessionId);
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  expect(events.filter((event) => event.type === 'agent.tool_use')).toHaveLength(1);
  const results = events.filter((event) => event.type === 'agent.tool_result');
  expect(results).toHaveLength(1);
  expect(results[0]).toMatchObject(result);
  expect(JSON.stringify(results[0])).toContain(text);
}

/**
 * Waits for the turn of `messageId` to end and checks its log: no duplicate event, and two tool results: the first an
 * error containing `interrupted` (what the model was told of the call that was cut), the second the next call's
 * `cat runs.log`, which ran in a new container on the same workspace and shows the cut command started once.
 */
async function expectInterruptedAndNotRunAgain(
  sessionId: string,
  messageId: string,
  interrupted: string,
): Promise<void> {
  const idle = await harness.client.waitForIdle(sessionId, messageId);
  expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
  const events = await listAllEvents(harness.client, sessionId);
  expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  const results = events.filter((event) => event.type === 'agent.tool_result');
  expect(results).toHaveLength(2);
  expect(results[0]).toMatchObject({ is_error: true });
  expect(JSON.stringify(results[0])).toContain(interrupted);
  expect(results[1]).toMatchObject({ is_error: false });
  expect(JSON.stringify(results[1])).toContain('started');
  expect(await runsLog(sessionId)).toEqual(['started']);
  await harness.client.endSession(sessionId);
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

    // The dead worker's runner let the command finish and recorded it: the retry returned the record, no second run.
    const runs = await execInSandbox(harness.docker, sessionId, ['cat', '/workspace/runs.log']);
    expect(runs.split('\n').filter((line) => line !== '')).toEqual(['started', 'finished']);
    await harness.client.endSession(sessionId);
  });

  it('worker SIGKILLed while a bash command runs: the retry waits for that run and returns its output, the command runs once', async () => {
    await stopEarlierWorkers();
    const first = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'exactly once, still running' });
    harness.model.enqueue(
      {
        kind: 'tool_use',
        name: 'bash',
        input: {
          command: 'echo started >> runs.log; sleep 12; echo finished >> runs.log; echo real-output-$((6 * 7))',
        },
      },
      { kind: 'text', text: 'ran once' },
    );
    const message = await harness.client.sendMessage(sessionId, 'run the slow command');
    await waitForRunsLog(sessionId, ['started']);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startWorkerProcess();

    const idle = await harness.client.waitForIdle(sessionId, message.id);
    expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    await expectOneToolCall(sessionId, { is_error: false }, 'real-output-42');
    expect(await runsLog(sessionId)).toEqual(['started', 'finished']);
    await harness.client.endSession(sessionId);
  });

  it('worker SIGKILLed after the runner recorded the exit but before the Activity completed: the retry replays the record', async () => {
    await stopEarlierWorkers();
    const first = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'exactly once, finished' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo started >> runs.log; sleep 2; echo quick-output' } },
      { kind: 'text', text: 'replayed' },
    );
    const message = await harness.client.sendMessage(sessionId, 'run the quick command');
    await waitForRunsLog(sessionId, ['started']);
    // Frozen, the worker cannot complete the Activity; the runner in the container finishes the command and records it.
    first.kill('SIGSTOP');
    await waitUntil(async () =>
      (await execInSandbox(harness.docker, sessionId, ['ls', '/tmp/.keel/calls'])).includes('.done'),
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startWorkerProcess();

    const idle = await harness.client.waitForIdle(sessionId, message.id);
    expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    await expectOneToolCall(sessionId, { is_error: false }, 'quick-output');
    expect(await runsLog(sessionId)).toEqual(['started']);
    await harness.client.endSession(sessionId);
  });

  it('sandbox container killed mid-command: the model gets an interrupted result and the command is not run again', async () => {
    await stopEarlierWorkers();
    await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'interrupted' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo started >> runs.log; sleep 30; echo never' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'cat runs.log' } },
      { kind: 'text', text: 'saw it' },
    );
    const message = await harness.client.sendMessage(sessionId, 'run the long command');
    await waitForRunsLog(sessionId, ['started']);
    const [container] = await sessionContainers(harness.docker, sessionId);
    await harness.docker.getContainer(container!.Id).kill();

    await expectInterruptedAndNotRunAgain(sessionId, message.id, 'interrupted and is not run again');
  });

  it('worker SIGKILLed and its sandbox container killed mid-command: the retry reports the call interrupted and does not run it again', async () => {
    await stopEarlierWorkers();
    const first = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'interrupted, both lost' });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo started >> runs.log; sleep 60; echo never' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'cat runs.log' } },
      { kind: 'text', text: 'saw it' },
    );
    const message = await harness.client.sendMessage(sessionId, 'run the long command');
    await waitForRunsLog(sessionId, ['started']);
    // The first heartbeat (one second in) carries the checkpoint naming the container: 5 s on, it is durable.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const [container] = await sessionContainers(harness.docker, sessionId);
    await harness.docker.getContainer(container!.Id).kill();
    await startWorkerProcess();

    await expectInterruptedAndNotRunAgain(sessionId, message.id, 'bash: interrupted: Keel lost this call');
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
