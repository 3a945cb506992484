import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiagentResponder } from './support/multiagent-responder';
import type { ThreadRequest } from './support/multiagent-responder';
import type { ScriptedReply } from './scripted-model-server';
import { rejection, sdkClient } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const COORDINATOR_SYSTEM = 'You coordinate the continue-as-new test.';
const WORKER_SYSTEM = 'You are the worker of the continue-as-new test.';

/** The coordinator: delegates, runs a few steps while the worker works, and ends once the worker's reply came. */
function coordinatorScript({ text, toolResultsOf, json }: ThreadRequest): ScriptedReply | undefined {
  if (text.includes('worker-done')) return { kind: 'text', text: 'All done.' };
  if (text.includes('Delegate and keep busy')) {
    return { kind: 'tool_use', name: 'spawn_agent', input: { agent_name: 'worker', message: 'Count to three.' } };
  }
  const ownSteps = (json.match(/coordinator-step/g) ?? []).length;
  if (toolResultsOf.length > 0 && ownSteps < 3) {
    return { kind: 'tool_use', name: 'bash', input: { command: 'echo coordinator-step' } };
  }
  return { kind: 'text', text: 'Waiting for the worker.' };
}

/** The worker: three bash steps (each a run of its own thread's turn), then its reply. */
function workerScript({ json }: ThreadRequest): ScriptedReply | undefined {
  const steps = (json.match(/worker-step-\d/g) ?? []).length / 2;
  if (steps < 3) return { kind: 'tool_use', name: 'bash', input: { command: `echo worker-step-${steps + 1}` } };
  return { kind: 'text', text: 'worker-done: counted to three' };
}

const responder = new MultiagentResponder({
  coordinator: { system: COORDINATOR_SYSTEM, script: coordinatorScript },
  worker: { system: WORKER_SYSTEM, script: workerScript },
});

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  // Every step of the coordinator continues its session's Workflow as new.
  harness = await startTestStack({
    model: { respond: responder.respond },
    environment: { KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '1' },
  });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

describe('a multiagent session across continue-as-new', () => {
  it("keeps its threads: the worker's reports reach the coordinator's later runs, and the session goes idle once", async () => {
    const tools = [
      {
        type: 'agent_toolset_20260401' as const,
        default_config: { permission_policy: { type: 'always_allow' as const } },
      },
    ];
    const worker = await client.beta.agents.create({
      name: 'worker',
      model: 'scripted-model',
      system: WORKER_SYSTEM,
      tools,
    });
    const coordinator = await client.beta.agents.create({
      name: 'lead',
      model: 'scripted-model',
      system: COORDINATOR_SYSTEM,
      tools,
      multiagent: { type: 'coordinator', agents: [worker.id] },
    });
    const environment = await client.beta.environments.create({ name: 'can', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({ agent: coordinator.id, environment_id: environment.id });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Delegate and keep busy.' }] }],
    });

    const deadline = Date.now() + 90_000;
    let events: Array<{ type: string; [key: string]: unknown }> = [];
    while (Date.now() < deadline) {
      events = [];
      for await (const event of client.beta.sessions.events.list(session.id)) events.push(event as never);
      if (events.some((event) => event.type === 'session.status_idle')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const types = events.map((event) => event.type);
    // One idle, after the worker's reply and the coordinator's last turn; nothing lost or repeated across the runs.
    expect(types.filter((type) => type === 'session.status_idle')).toHaveLength(1);
    expect(types.at(-1)).toBe('session.status_idle');
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const received = events.filter((event) => event.type === 'agent.thread_message_received');
    expect(received).toHaveLength(1);
    expect(JSON.stringify(received[0]?.['content'])).toContain('worker-done');
    expect(types.indexOf('session.thread_created')).toBeLessThan(types.indexOf('agent.thread_message_received'));
    expect(types.filter((type) => type === 'session.thread_status_idle')).toHaveLength(1);
    expect(responder.of('coordinator').at(-1)?.text).toContain('worker-done');
    expect(responder.of('worker')).toHaveLength(4);

    // The session's Workflow continued as new while its thread ran: the thread outlived the run that started it.
    let runs = 0;
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${session.id}'` })) {
      if (execution.type === 'sessionWorkflow') runs += 1;
    }
    expect(runs).toBeGreaterThan(2);
    const threads = (await client.beta.sessions.threads.list(session.id)).data;
    expect(threads.map((thread) => thread.status)).toEqual(['idle', 'idle']);

    // While a child thread lives, the session's files do not change under it.
    const file = await client.beta.files.upload({ file: await toFile(Buffer.from('late'), 'late.txt') });
    const refused = await rejection(client.beta.sessions.resources.add(session.id, { type: 'file', file_id: file.id }));
    expect(refused.message).toContain('child threads');
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    expect([400, 409]).toContain(refused.status);
  });
});
