import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClient, untilIdleAfter } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  // A list price for the scripted model (dollars per million tokens: input/output/5m write/1h write/read).
  harness = await startTestStack({ environment: { KEEL_MODEL_PRICES: 'scripted-model=1000/2000/1250/3000/100' } });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

/** The value of the sample `name{labels}` in a Prometheus text page, or `undefined`. */
function sample(page: string, name: string, labels: string): number | undefined {
  const line = page.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('serves HTTP, session, Activity, token, cost, sandbox and Temporal worker metrics in the Prometheus format, without a key', async () => {
    const agent = await client.beta.agents.create({
      name: 'measured',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await client.beta.environments.create({ name: 'metrics', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo measured' } },
      { kind: 'text', text: 'done' },
    );
    // A stream that previews the answer: the server measures each text delta it writes to it.
    const stream = await client.beta.sessions.events.stream(session.id, { event_deltas: ['agent.message'] });
    let deltas = 0;
    const reading = (async () => {
      for await (const item of stream) {
        if (item.type === 'event_delta') deltas += 1;
        if (item.type === 'session.status_idle') return;
      }
    })();
    const sent = await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'measure' }] }],
    });
    await untilIdleAfter(client, session.id, sent.data?.[0]?.id);
    await reading;
    stream.controller.abort();

    const response = await fetch(`${harness.stack.apiUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const page = await response.text();
    expect(
      sample(page, 'keel_http_requests_total', 'method="POST",route="/v1/sessions/:sessionId/events",status="200"'),
    ).toBe(1);
    expect(sample(page, 'keel_sessions', 'status="idle"')).toBeGreaterThanOrEqual(1);
    expect(
      sample(page, 'keel_activity_duration_seconds_count', 'activity="callModel",tool="",outcome="completed"'),
    ).toBe(2);
    expect(
      sample(page, 'keel_activity_duration_seconds_count', 'activity="execute",tool="bash",outcome="completed"'),
    ).toBe(1);
    const tokens = (kind: string): number =>
      sample(page, 'keel_model_tokens_total', `model="scripted-model",kind="${kind}"`) ?? 0;
    expect(tokens('input')).toBeGreaterThan(0);
    // The list cost of exactly those tokens, at the configured price.
    const dollars =
      (tokens('input') * 1000 +
        tokens('output') * 2000 +
        tokens('cache_creation') * 1250 +
        tokens('cache_read') * 100) /
      1e6;
    expect(sample(page, 'keel_model_cost_usd_total', 'model="scripted-model"')).toBeCloseTo(dollars, 9);
    // The session's sandbox, running, counted on this worker.
    expect(sample(page, 'keel_sandboxes', 'state="running"')).toBe(1);
    expect(sample(page, 'keel_sandboxes', 'state="warm"')).toBe(0);
    // The Temporal SDK's own worker metrics, from the runtime's page.
    expect(page).toMatch(/^temporal_workflow_task_execution_latency_(bucket|count)\{/m);
    expect(page).toMatch(/^temporal_activity_execution_latency_(bucket|count)\{/m);
    // The pages joined stay one valid exposition: each family declared once, every other line a sample.
    const families = page
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]);
    expect(new Set(families).size).toBe(families.length);
    const samples = page.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    for (const line of samples)
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.]+(e[+-]?\d+)?|NaN|[+-]Inf)$/);
    expect(page).toContain('keel_server_process_resident_memory_bytes');
    expect(deltas).toBeGreaterThan(0);
    expect(Number(/^keel_live_delta_delay_seconds_count (\d+)$/m.exec(page)?.[1])).toBe(deltas);
    // Counts only: nothing a session said is in the page.
    expect(page).not.toContain('measured');
    await client.beta.sessions.delete(session.id);
  });
});
