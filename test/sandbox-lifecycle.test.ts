import type { ChildProcess } from 'node:child_process';
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_LABELS, sandboxClusterLabel, sandboxVolumeName } from '../common/sandbox';
import { sdkClient, bashTurn as runBashTurn } from './support/sdk';
import { sessionContainers, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { startWorkerProcess } from './support/worker-process';

const IDLE_TIMEOUT_SECONDS = 2;

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  harness = await startTestStack({ environment: { KEEL_SANDBOX_IDLE_TIMEOUT: String(IDLE_TIMEOUT_SECONDS) } });
  client = sdkClient(harness.stack.apiUrl);
  agentId = (
    await client.beta.agents.create({
      name: 'lifecycle',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
    })
  ).id;
  environmentId = (await client.beta.environments.create({ name: 'lifecycle', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await harness?.stop();
});

/** Runs one turn with one bash call; resolves with the call's result, as JSON. */
function bashTurn(sessionId: string, command: string): Promise<string> {
  return runBashTurn(client, harness.model, sessionId, command);
}

async function volumeExists(sessionId: string): Promise<boolean> {
  try {
    await harness.docker.getVolume(sandboxVolumeName(sessionId)).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Waits (20 s at most) until the session has no container. */
async function untilNoContainer(sessionId: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await sessionContainers(harness.docker, sessionId)).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`session ${sessionId} still has a container`);
}

describe('the sandbox lifecycle', () => {
  it("stops an idle session's container and keeps its workspace for the next call; the end removes both", async () => {
    const session = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    expect(await bashTurn(session.id, 'echo kept > /workspace/keep.txt && echo written')).toContain('written');
    const [container] = await sessionContainers(harness.docker, session.id);
    // The container names its cluster and its worker, so orphans can be found.
    expect(container?.Labels[SANDBOX_LABELS.cluster]).toBe(
      sandboxClusterLabel(harness.config.temporal.namespace, harness.stack.temporalAddress),
    );
    expect(container?.Labels[SANDBOX_LABELS.worker]).toMatch(/@/);

    const idleFrom = Date.now();
    await untilNoContainer(session.id);
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(IDLE_TIMEOUT_SECONDS * 1000 - 500);
    expect(await volumeExists(session.id)).toBe(true);
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('idle');

    // The next tool call starts a new container on the same workspace.
    expect(await bashTurn(session.id, 'cat /workspace/keep.txt')).toContain('kept');
    expect(await sessionContainers(harness.docker, session.id)).toHaveLength(1);

    // Stopped again, then deleted: no container and no volume are left.
    await untilNoContainer(session.id);
    await client.beta.sessions.delete(session.id);
    expect(await volumeExists(session.id)).toBe(false);
    expect(await sessionContainers(harness.docker, session.id)).toHaveLength(0);
  });

  it('a worker that starts removes the sandboxes of sessions that no longer run, and only those', async () => {
    const orphaned = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    const live = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    // A long sleep keeps the live session's turn, and so its container, running while the new worker starts.
    await bashTurn(orphaned.id, 'echo orphan');
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    await client.beta.sessions.events.send(live.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'wait' }] }],
    });
    for (let attempt = 0; (await sessionContainers(harness.docker, live.id)).length === 0; attempt++) {
      if (attempt > 200) throw new Error('the live session never got a container');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The orphaned session's Workflow is terminated behind Keel's back: nothing ran its clean-up.
    await harness.stack.temporal.workflow.getHandle(orphaned.id).terminate('simulated crash');
    expect(await sessionContainers(harness.docker, orphaned.id)).toHaveLength(1);
    expect(await volumeExists(orphaned.id)).toBe(true);

    await startWorkerProcess(harness.workerEnvironment, children);
    expect(await sessionContainers(harness.docker, orphaned.id)).toHaveLength(0);
    expect(await volumeExists(orphaned.id)).toBe(false);
    expect(await sessionContainers(harness.docker, live.id)).toHaveLength(1);
    expect(await volumeExists(live.id)).toBe(true);
    await client.beta.sessions.events.send(live.id, { events: [{ type: 'user.interrupt' }] });
    await client.beta.sessions.delete(live.id);
  });
});
