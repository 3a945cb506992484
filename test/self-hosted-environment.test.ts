import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { ResourceAddParams } from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../cli/keys';
import { sdkClient, untilIdleAfter, untilLog } from './support/sdk';
import { sessionContainers, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let environmentId: string;
let environmentKey: string;
let workdir: string;
let agentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  environmentId = (await client.beta.environments.create({ name: 'my machines', config: { type: 'self_hosted' } })).id;
  // The environment key, as an operator makes one.
  const lines: string[] = [];
  expect(
    await keys(harness.config, ['create', 'laptop worker', '--environment', environmentId], (l) => lines.push(l)),
  ).toBe(0);
  environmentKey = lines[0]?.split(' ')[1] ?? '';
  agentId = (
    await client.beta.agents.create({
      name: 'remote hands',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    })
  ).id;
  workdir = mkdtempSync(path.join(tmpdir(), 'keel-self-hosted-'));
});

afterAll(async () => {
  await harness?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** A client that authenticates with the environment key, as the SDK's worker does. */
function environmentClient(): Anthropic {
  return new Anthropic({ baseURL: harness.stack.apiUrl, authToken: environmentKey, apiKey: null, maxRetries: 0 });
}

async function send(sessionId: string, text: string): Promise<string | undefined> {
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  return sent.data?.[0]?.id;
}

/** Waits (60 s at most) until `predicate` holds for the session's log. */
function waitForLog(
  sessionId: string,
  predicate: (events: BetaManagedAgentsSessionEvent[]) => boolean,
): Promise<BetaManagedAgentsSessionEvent[]> {
  return untilLog(client, sessionId, predicate);
}

describe('a self-hosted environment', () => {
  it('is created, read back and listed with its self_hosted config', async () => {
    const environment = await client.beta.environments.retrieve(environmentId);
    expect(environment.config).toEqual({ type: 'self_hosted' });
  });

  it("runs a session's tools on the SDK's own worker, over two turns, and never in Keel's sandbox", async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const abort = new AbortController();
    const worker = environmentClient()
      .beta.environments.work.worker({
        environmentId,
        environmentKey,
        workdir,
        maxIdleMs: 1_500,
        memorySyncIntervalMs: null,
      })
      .run(abort.signal);
    try {
      harness.model.enqueue(
        {
          kind: 'tool_use',
          name: 'bash',
          input: { command: 'echo from-the-worker > note.txt && cat note.txt && pwd' },
        },
        { kind: 'tool_use', name: 'read', input: { file_path: path.join(workdir, 'note.txt') } },
        { kind: 'text', text: 'the note says hello' },
      );
      const first = await send(session.id, 'write a note');
      const events = await untilIdleAfter(client, session.id, first);
      const turn = events.slice(events.findIndex((event) => event.id === first));
      expect(turn.find((event) => event.type === 'session.status_idle')).toMatchObject({
        stop_reason: { type: 'end_turn' },
      });
      const uses = turn.filter((event) => event.type === 'agent.tool_use');
      const results = turn.filter((event) => event.type === 'user.tool_result');
      expect(uses).toHaveLength(2);
      expect(uses[0]).toMatchObject({ name: 'bash', evaluated_permission: 'allow' });
      // The worker's results are the calls' logged results: no agent.tool_result, one user.tool_result each.
      expect(turn.filter((event) => event.type === 'agent.tool_result')).toHaveLength(0);
      expect(results.map((event) => (event.type === 'user.tool_result' ? event.tool_use_id : null))).toEqual(
        uses.map((event) => event.id),
      );
      expect(JSON.stringify(results[0])).toContain('from-the-worker');
      expect(JSON.stringify(results[0])).toContain(workdir);
      // The command ran on the worker's machine, in its workdir; the model read both results.
      expect(readFileSync(path.join(workdir, 'note.txt'), 'utf8')).toBe('from-the-worker\n');
      const lastPrompt = JSON.stringify(harness.model.requests.at(-1)?.body.messages);
      expect(lastPrompt).toContain('from-the-worker');
      expect(await sessionContainers(harness.docker, session.id)).toHaveLength(0);

      // The worker lets the item go once the session has idled; the next turn's tool call queues a new one.
      const operator = environmentClient();
      for (let attempt = 0; ; attempt++) {
        const page = await operator.beta.environments.work.list(environmentId);
        if (page.data.length > 0 && page.data.every((item) => item.state === 'stopped')) break;
        if (attempt > 200) throw new Error(`the worker never stopped its item: ${JSON.stringify(page.data)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      harness.model.enqueue(
        { kind: 'tool_use', name: 'bash', input: { command: 'cat note.txt; echo second-turn' } },
        { kind: 'text', text: 'done again' },
      );
      const second = await send(session.id, 'read it again');
      const later = await untilIdleAfter(client, session.id, second);
      const secondTurn = later.slice(later.findIndex((event) => event.id === second));
      const secondResult = secondTurn.find((event) => event.type === 'user.tool_result');
      expect(JSON.stringify(secondResult)).toContain('second-turn');
      const items = (await operator.beta.environments.work.list(environmentId)).data;
      expect(items.length).toBeGreaterThanOrEqual(2);
      expect(items.every((item) => item.data.type === 'session' && item.data.id === session.id)).toBe(true);
    } finally {
      abort.abort();
      await worker.catch(() => undefined);
    }
  });

  it('serves the work protocol: poll, ack, heartbeat leases with 412 on a stale one, stop, stats', async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const worker = environmentClient();
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'echo never-run' } });
    await send(session.id, 'run something');
    await waitForLog(session.id, (events) => events.some((event) => event.type === 'agent.tool_use'));

    let item = await worker.beta.environments.work.poll(environmentId, { block_ms: 999 });
    for (let attempt = 0; item === null && attempt < 50; attempt++) {
      item = await worker.beta.environments.work.poll(environmentId, { block_ms: 999 });
    }
    expect(item).toMatchObject({ type: 'work', state: 'queued', data: { type: 'session', id: session.id } });
    const workId = item!.id;
    const stats = await worker.beta.environments.work.stats(environmentId);
    expect(stats).toMatchObject({ type: 'work_queue_stats', depth: 0, pending: 1 });
    expect(await worker.beta.environments.work.ack(workId, { environment_id: environmentId })).toMatchObject({
      state: 'starting',
    });

    const first = await worker.beta.environments.work.heartbeat(workId, {
      environment_id: environmentId,
      expected_last_heartbeat: 'NO_HEARTBEAT',
      desired_ttl_seconds: 60,
    });
    expect(first).toMatchObject({ type: 'work_heartbeat', lease_extended: true, state: 'active', ttl_seconds: 60 });
    // A second claim, or an old echo, is a stale lease: 412 with the code the SDK turns into its typed error.
    const stale = await worker.beta.environments.work
      .heartbeat(workId, { environment_id: environmentId, expected_last_heartbeat: 'NO_HEARTBEAT' })
      .catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(Anthropic.APIError);
    expect(stale).toMatchObject({
      status: 412,
      error: { error: { details: { error_code: 'heartbeat_precondition_failed' } } },
    });
    const next = await worker.beta.environments.work.heartbeat(workId, {
      environment_id: environmentId,
      expected_last_heartbeat: first.last_heartbeat,
    });
    expect(next.lease_extended).toBe(true);
    expect(next.last_heartbeat).not.toBe(first.last_heartbeat);

    // An operator's API key reads and labels the item; it may not list the queue, which is the worker's.
    expect(await client.beta.environments.work.retrieve(workId, { environment_id: environmentId })).toMatchObject({
      id: workId,
      state: 'active',
    });
    const labelled = await client.beta.environments.work.update(workId, {
      environment_id: environmentId,
      metadata: { host: 'laptop' },
    });
    expect(labelled.metadata).toEqual({ host: 'laptop' });
    await expect(client.beta.environments.work.list(environmentId)).rejects.toMatchObject({ status: 403 });

    const halted = await worker.beta.environments.work.stop(workId, { environment_id: environmentId, force: true });
    expect(halted).toMatchObject({ state: 'stopped' });
    // Stopping again is fine; a heartbeat on a stopped item releases the worker.
    expect(
      await worker.beta.environments.work.stop(workId, { environment_id: environmentId, force: true }),
    ).toMatchObject({ state: 'stopped' });
    expect(
      await worker.beta.environments.work.heartbeat(workId, {
        environment_id: environmentId,
        expected_last_heartbeat: next.last_heartbeat,
      }),
    ).toMatchObject({ lease_extended: false, state: 'stopped' });

    // The session still waits for its result; an interrupt ends the turn.
    const summary = await client.beta.sessions.retrieve(session.id);
    expect(summary.status).toBe('running');
    await client.beta.sessions.events.send(session.id, { events: [{ type: 'user.interrupt' }] });
    await waitForLog(session.id, (events) => events.at(-1)?.type === 'session.status_idle');
  });

  it('limits the environment key to its queue and its sessions, and refuses results nobody waits for', async () => {
    const worker = environmentClient();
    await expect(worker.beta.agents.list()).rejects.toMatchObject({ status: 403 });
    const cloud = await client.beta.environments.create({ name: 'cloud', config: { type: 'cloud' } });
    const other = await client.beta.sessions.create({ agent: agentId, environment_id: cloud.id });
    await expect(worker.beta.sessions.retrieve(other.id)).rejects.toMatchObject({ status: 403 });
    await expect(worker.beta.environments.work.poll(cloud.id)).rejects.toMatchObject({ status: 403 });
    const own = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    expect((await worker.beta.sessions.retrieve(own.id)).resources).toEqual([]);
    await expect(
      worker.beta.sessions.events.send(own.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }],
      }),
    ).rejects.toMatchObject({ status: 403 });
    const unawaited = await worker.beta.sessions.events
      .send(own.id, {
        events: [
          { type: 'user.tool_result', tool_use_id: 'sevt_nothingwaits', content: [{ type: 'text', text: 'x' }] },
        ],
      })
      .catch((error: unknown) => error);
    expect(unawaited).toMatchObject({ status: 400 });
    expect(String((unawaited as Error).message)).toContain('sevt_nothingwaits');
    // Resources live in Keel's sandbox, which a self-hosted session does not use: refused, not ignored.
    const withFile = await client.beta.sessions
      .create({
        agent: agentId,
        environment_id: environmentId,
        resources: [{ type: 'github_repository', url: 'https://github.com/anthropics/anthropic-sdk-typescript' }],
      })
      .catch((error: unknown) => error);
    expect(withFile).toMatchObject({ status: 400 });
    expect(String((withFile as Error).message)).toContain('resources: environment');
    const added = await client.beta.sessions.resources
      // The SDK types resources.add for files only; the hosted API takes repositories too.
      .add(own.id, {
        type: 'github_repository',
        url: 'https://github.com/anthropics/anthropic-sdk-typescript',
      } as unknown as ResourceAddParams)
      .catch((error: unknown) => error);
    expect(added).toMatchObject({ status: 400 });
    expect(String((added as Error).message)).toContain('self-hosted environment');
    // An API key cannot poll a cloud environment: it has no queue.
    await expect(client.beta.environments.work.poll(cloud.id)).rejects.toMatchObject({ status: 400 });
  });
});
