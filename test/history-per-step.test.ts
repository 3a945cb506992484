import Anthropic from '@anthropic-ai/sdk';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** A system prompt as long as real coding agents' (about 6 KB), so carrying it every step would show. */
const SYSTEM_PROMPT = Array.from({ length: 120 }, (_, line) => `Rule ${line}: keep the workspace tidy and explain.`)
  .join('\n')
  .padEnd(6_000, '.');
const STEPS = 9;
const STEPS_PER_RUN = 4;

let harness: TestStack;

beforeAll(async () => {
  harness = await startTestStack({ environment: { KEEL_CONTINUE_AS_NEW_AFTER_STEPS: String(STEPS_PER_RUN) } });
});

afterAll(async () => {
  await harness?.stop();
});

interface RunEvents {
  runId: string;
  events: temporal.api.history.v1.IHistoryEvent[];
}

async function runsOf(sessionId: string): Promise<RunEvents[]> {
  const runs: RunEvents[] = [];
  for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${sessionId}'` })) {
    const history = await harness.stack.temporal.workflow.getHandle(sessionId, execution.runId).fetchHistory();
    runs.push({ runId: execution.runId, events: history.events ?? [] });
  }
  return runs;
}

function callModelInputs(run: RunEvents): Record<string, unknown>[] {
  return run.events
    .map((event) => event.activityTaskScheduledEventAttributes)
    .filter((scheduled) => scheduled?.activityType?.name === 'callModel')
    .map((scheduled) => {
      const data = scheduled?.input?.payloads?.[0]?.data;
      return JSON.parse(Buffer.from(data ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
    });
}

describe('history per step', () => {
  it('a 6 KB system prompt crosses into each run once, an untraced run carries no trace headers, and the build id is short', async () => {
    const sdk = new Anthropic({ baseURL: harness.stack.apiUrl, apiKey: TEST_API_KEY, maxRetries: 0 });
    const agent = await sdk.beta.agents.create({
      name: 'long prompt',
      model: 'scripted-model',
      system: SYSTEM_PROMPT,
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await sdk.beta.environments.create({ name: 'history per step', config: { type: 'cloud' } });
    const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    for (let step = 0; step < STEPS; step++) {
      harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: `echo step ${step}` } });
    }
    harness.model.enqueue({ kind: 'text', text: 'all steps ran' });
    const before = harness.model.requests.length;
    const message = await harness.client.sendMessage(session.id, 'run the steps');
    const idle = await harness.client.waitForIdle(session.id, message.id);
    expect(idle.type).toBe('session.status_idle');
    expect(harness.model.remaining()).toBe(0);

    // The model received the whole system prompt with every call, whether the history named it or carried it.
    const requests = harness.model.requests.slice(before);
    expect(requests).toHaveLength(STEPS + 1);
    for (const request of requests) expect(JSON.stringify(request.body.system)).toContain(SYSTEM_PROMPT.slice(-200));

    const runs = await runsOf(session.id);
    expect(runs.length).toBeGreaterThanOrEqual(Math.ceil(STEPS / STEPS_PER_RUN));
    let inline = 0;
    let byKey = 0;
    for (const run of runs) {
      const inputs = callModelInputs(run);
      // Within one run, only the first call carries the prompt; the others name what it stored.
      inputs.forEach((input, index) => {
        if (index === 0) expect(input['system']).toBe(SYSTEM_PROMPT);
        else {
          expect(input['system']).toBeNull();
          expect(input['systemKey']).toMatch(/^system\/[0-9a-f]{64}$/);
        }
      });
      inline += inputs.filter((input) => input['system'] === SYSTEM_PROMPT).length;
      byKey += inputs.filter((input) => typeof input['systemKey'] === 'string').length;

      for (const event of run.events) {
        const header = event.activityTaskScheduledEventAttributes?.header?.fields ?? {};
        expect(Object.keys(header)).not.toContain('_tracer-data');
        const buildId =
          event.workflowTaskStartedEventAttributes?.workerVersion?.buildId ??
          event.workflowTaskCompletedEventAttributes?.workerVersion?.buildId ??
          event.activityTaskStartedEventAttributes?.workerVersion?.buildId;
        if (buildId) expect(buildId).toMatch(/^keel-[0-9a-f]{16}$/);
      }
    }
    expect(byKey).toBeGreaterThan(inline);

    // The model calls' events hold the prompt once a run, and about a kilobyte a call otherwise.
    const callModelBytes = runs
      .flatMap((run) => run.events)
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel')
      .reduce((sum, event) => sum + temporal.api.history.v1.HistoryEvent.encode(event).finish().length, 0);
    expect(callModelBytes).toBeLessThan(runs.length * SYSTEM_PROMPT.length + (STEPS + 1) * 1_200);
    await sdk.beta.sessions.delete(session.id).catch(() => undefined);
  });
});
