import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../common/events';
import { LEFT_OUT_MESSAGE_TEXT } from '../workflows/conversation-state';
import { USAGE_SNAPSHOT_EVERY_STEPS } from '../workflows/turn-rules';
import type { RecordedRequest } from './scripted-model-server';
import { sdkClient } from './support/sdk';
import { isCompactionRequest, toolLoopResponder } from './support/tool-loop-responder';
import type { ToolLoopResponder } from './support/tool-loop-responder';
import { listAllEvents, sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** The window the scripted model enforces, and the one Keel is told for `scripted-model`. */
const WINDOW = 20_000;
let harness: TestStack;
let responder: ToolLoopResponder = toolLoopResponder({ steps: 0, outputBytes: 0 });

beforeAll(async () => {
  harness = await startTestStack({
    environment: {
      // `scripted-wide` is told a window three times larger than the model's: only the model's 400 stops it.
      KEEL_MODEL_CONTEXT_WINDOWS: `scripted-model=${WINDOW},scripted-wide=${WINDOW * 3}`,
      // Runs of 5 steps: a long turn spans many runs, and their archives are folded into index pages.
      KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '5',
    },
    model: { contextWindowTokens: WINDOW, respond: (request) => responder.respond(request) },
  });
});

afterAll(async () => {
  await harness?.stop();
});

/** A session of an agent on `model`, through the official SDK. */
async function sessionOn(model: string, title: string): Promise<string> {
  const sdk = sdkClient(harness.stack.apiUrl);
  const agent = await sdk.beta.agents.create({ name: title, model, tools: [{ type: 'agent_toolset_20260401' }] });
  const environment = await sdk.beta.environments.create({ name: `${title} env`, config: { type: 'cloud' } });
  const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id, title });
  return session.id;
}

/** A request body's messages without `cache_control`, to compare what the model saw across calls. */
function plainMessages(request: RecordedRequest): unknown[] {
  return JSON.parse(
    JSON.stringify(request.body.messages, (key, value: unknown) => (key === 'cache_control' ? undefined : value)),
  ) as unknown[];
}

function ofType<Type extends SessionEvent['type']>(
  events: SessionEvent[],
  type: Type,
): Array<Extract<SessionEvent, { type: Type }>> {
  return events.filter((event): event is Extract<SessionEvent, { type: Type }> => event.type === type);
}

describe('long sessions', () => {
  it('a turn of 70 tool steps crosses the context window three times: it compacts each time, the model never gets a prompt over the window, and the cache serves most input', async () => {
    const sessionId = await sessionOn('scripted-model', 'crosses the window');
    const requestsBefore = harness.model.requests.length;
    responder = toolLoopResponder({ steps: 70, outputBytes: 2_000, finalText: 'seventy steps done' });
    const { idle } = await sendAndWait(harness.client, sessionId, 'run seventy commands');
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    expect(responder.stepsAnswered()).toBe(70);

    const events = await listAllEvents(harness.client, sessionId, 100);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const compacted = ofType(events, 'agent.thread_context_compacted');
    expect(compacted.length).toBeGreaterThanOrEqual(3);
    for (const event of compacted) expect(event.pre_compaction_tokens).toBeGreaterThan(WINDOW / 2);
    expect(ofType(events, 'session.error')).toEqual([]);
    const results = ofType(events, 'agent.tool_result');
    expect(results).toHaveLength(70);
    // Outputs are stored out of the history; the API still shows each whole.
    for (const result of results) expect(JSON.stringify(result.content)).toMatch(/"text":"[A-Za-z0-9+/]{2000}"/);

    const requests = harness.model.requests.slice(requestsBefore);
    expect(requests.filter((request) => request.refusal !== undefined)).toEqual([]);
    expect(Math.max(...requests.map((request) => request.inputTokens))).toBeLessThanOrEqual(WINDOW);
    const modelCalls = requests.filter((request) => !isCompactionRequest(request));
    const read = modelCalls.reduce((sum, request) => sum + (request.usage?.cacheReadInputTokens ?? 0), 0);
    const total = modelCalls.reduce((sum, request) => sum + request.inputTokens, 0);
    console.log(`long session test: ${compacted.length} compactions, cache reads ${read} of ${total} input tokens`);
    expect(read / total).toBeGreaterThan(0.75);

    // Between two compactions every call extends the previous one's conversation (across continue-as-new too), and
    // reads the cache up to where the previous call wrote it.
    let extended = 0;
    for (let index = 1; index < requests.length; index++) {
      const [before, after] = [requests[index - 1]!, requests[index]!];
      if (isCompactionRequest(before) || isCompactionRequest(after)) continue;
      const previous = plainMessages(before);
      expect(plainMessages(after).slice(0, previous.length)).toEqual(previous);
      // The API caches no prefix under 1,024 tokens: only a call after a large enough one can read.
      if (before.inputTokens < 1_100) continue;
      expect(after.usage?.cacheReadInputTokens ?? 0, `cache reads of request ${index}`).toBeGreaterThan(0);
      extended += 1;
    }
    expect(extended).toBeGreaterThan(60);
    const runs: string[] = [];
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${sessionId}'` }))
      runs.push(execution.runId);
    expect(runs.length).toBeGreaterThanOrEqual(14);

    // The session keeps answering after the long turn.
    responder = toolLoopResponder({ steps: 0, outputBytes: 0, finalText: 'still here' });
    const after = await sendAndWait(harness.client, sessionId, 'are you still there?');
    expect(after.idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const whileRunning = await listAllEvents(harness.client, sessionId, 100);
    await harness.client.endSession(sessionId);
    // Ended, the session is read from its archives and their index pages: the same events, then the termination.
    const ended = await listAllEvents(harness.client, sessionId, 100);
    expect(ended.slice(0, whileRunning.length)).toEqual(whileRunning);
    expect(ended.slice(-2).map((event) => event.type)).toEqual(['session.status_terminated', 'session.deleted']);
  });

  it('continue-as-new in the middle of a long turn keeps the conversation and the cache prefix identical', async () => {
    // `scripted-wide` compacts late (Keel is told a 60,000-token window), so 25 steps only continue-as-new.
    const sessionId = await sessionOn('scripted-wide', 'continue-as-new mid-turn');
    const requestsBefore = harness.model.requests.length;
    responder = toolLoopResponder({ steps: 25, outputBytes: 1_000, finalText: 'twenty-five done' });
    const { idle, events } = await sendAndWait(harness.client, sessionId, 'run twenty-five commands');
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    expect(ofType(events, 'agent.thread_context_compacted')).toEqual([]);
    const runs: string[] = [];
    for await (const execution of harness.stack.temporal.workflow.list({ query: `WorkflowId = '${sessionId}'` }))
      runs.push(execution.runId);
    expect(runs.length).toBeGreaterThanOrEqual(3);

    const requests = harness.model.requests.slice(requestsBefore);
    expect(requests).toHaveLength(26);
    for (let index = 1; index < requests.length; index++) {
      const [before, after] = [requests[index - 1]!, requests[index]!];
      const previous = plainMessages(before);
      expect(plainMessages(after).slice(0, previous.length)).toEqual(previous);
      expect(plainMessages(after)).toHaveLength(previous.length + 2);
      // Once the prompt is cacheable, every call reads all of the previous call's prompt from the cache.
      if (before.inputTokens >= 1_100) {
        expect(after.usage?.cacheReadInputTokens, `cache reads of call ${index + 1}`).toBe(before.inputTokens);
      }
    }
    await harness.client.endSession(sessionId);
  });

  it(`a turn of more than ${USAGE_SNAPSHOT_EVERY_STEPS} steps logs session.usage every ${USAGE_SNAPSHOT_EVERY_STEPS} steps, across continue-as-new, and at its end`, async () => {
    const sessionId = await sessionOn('scripted-wide', 'usage snapshots');
    const steps = USAGE_SNAPSHOT_EVERY_STEPS + 10;
    responder = toolLoopResponder({ steps, outputBytes: 10, finalText: 'counted' });
    const { events } = await sendAndWait(harness.client, sessionId, 'run many commands');
    const snapshots = ofType(events, 'session.usage');
    expect(snapshots).toHaveLength(2);
    const results = ofType(events, 'agent.tool_result');
    expect(results).toHaveLength(steps);
    // The first right after the 100th step (its model call and its tool result); the second just before the idle.
    expect(events[events.indexOf(results[USAGE_SNAPSHOT_EVERY_STEPS - 1]!) + 1]).toBe(snapshots[0]);
    expect(events.at(-2)).toBe(snapshots[1]);
    expect(snapshots[1]!.usage.output_tokens).toBeGreaterThan(snapshots[0]!.usage.output_tokens ?? 0);
    expect(snapshots[1]!.usage.active_seconds).toBeGreaterThan(0);
    await harness.client.endSession(sessionId);
  });

  it('a 400 "prompt is too long" from the model makes the harness compact and call again instead of ending the turn', async () => {
    const sessionId = await sessionOn('scripted-wide', 'prompt too long');
    const refusedBefore = harness.model.refusedForContextWindow.length;
    responder = toolLoopResponder({ steps: 40, outputBytes: 2_000, finalText: 'made it' });
    const { idle } = await sendAndWait(harness.client, sessionId, 'run forty commands');
    expect(idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const events = await listAllEvents(harness.client, sessionId, 100);
    expect(harness.model.refusedForContextWindow.length - refusedBefore).toBeGreaterThanOrEqual(1);
    expect(ofType(events, 'agent.thread_context_compacted').length).toBeGreaterThanOrEqual(1);
    expect(ofType(events, 'agent.tool_result')).toHaveLength(40);
    expect(ofType(events, 'session.error')).toEqual([]);
    expect(JSON.stringify(events.at(-1))).toContain('end_turn');
    await harness.client.endSession(sessionId);
  });

  it('a single message larger than the window ends the turn with compaction_limit_reached_error and retries_exhausted, and the next message works', async () => {
    const sessionId = await sessionOn('scripted-model', 'oversized message');
    const requestsBefore = harness.model.requests.length;
    responder = toolLoopResponder({ steps: 0, outputBytes: 0, finalText: 'answered the small one' });
    const huge = 'x'.repeat(WINDOW * 5);
    const first = await sendAndWait(harness.client, sessionId, huge);
    expect(first.idle).toMatchObject({ stop_reason: { type: 'retries_exhausted' } });
    const error = ofType(first.events, 'session.error')[0];
    expect(error?.error).toMatchObject({ type: 'compaction_limit_reached_error', retry_status: { type: 'exhausted' } });
    expect(harness.model.requests.length).toBe(requestsBefore);

    const second = await sendAndWait(harness.client, sessionId, 'a small message');
    expect(second.idle).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const request = harness.model.requests.at(-1)!;
    const sent = JSON.stringify(request.body.messages);
    expect(sent).toContain('a small message');
    expect(sent).toContain(LEFT_OUT_MESSAGE_TEXT.slice(0, 30));
    expect(sent).not.toContain('xxxxxxxxxx');
    await harness.client.endSession(sessionId);
  });

  it('an agent with an effort thinks: thinking blocks stay in the conversation, agent.thinking is logged and previewed by event_start', async () => {
    const sdk = sdkClient(harness.stack.apiUrl);
    const agent = await sdk.beta.agents.create({
      name: 'thinker',
      model: { id: 'scripted-model', effort: 'high' },
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await sdk.beta.environments.create({ name: 'thinker env', config: { type: 'cloud' } });
    const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const stream = await sdk.beta.sessions.events.stream(session.id, { event_deltas: ['agent.thinking'] });
    const streamed: Array<{ type: string; id?: string; event?: { id: string; type: string } }> = [];
    const reading = (async () => {
      for await (const item of stream) {
        streamed.push(item);
        if (item.type === 'session.status_idle') break;
      }
    })();
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo thought-through' }, thinking: 'I should run echo.' },
      { kind: 'text', text: 'Done thinking.', thinking: 'The command printed what I expected.' },
    );
    const requestsBefore = harness.model.requests.length;
    await sdk.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'think, then run echo' }] }],
    });
    await reading;

    const requests = harness.model.requests.slice(requestsBefore);
    expect(requests.map((request) => request.refusal)).toEqual([undefined, undefined]);
    expect(requests[0]?.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    // The Messages API requires the thinking block of a tool-use turn to come back with the tool result.
    const assistant = requests[1]?.body.messages.at(-2);
    expect(JSON.stringify(assistant?.content)).toContain('I should run echo.');

    const thinking = streamed.filter((event) => event.type === 'agent.thinking');
    expect(thinking).toHaveLength(2);
    const previews = streamed.filter((event) => event.type === 'event_start');
    expect(previews.map((preview) => preview.event)).toEqual(
      thinking.map((event) => ({ id: event.id, type: 'agent.thinking' })),
    );
    const types = streamed.map((event) => event.type);
    expect(types.indexOf('agent.thinking')).toBeLessThan(types.indexOf('agent.tool_use'));
  });
});
