import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_PREFIX } from '../activities/model/compact-conversation';
import type { SessionEvent } from '../common/events';
import type { RecordedRequest, ScriptedReply } from './scripted-model-server';
import { startWorkerProcess as startWorkerWith } from './support/worker-process';
import { listAllEvents, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { isCompactionRequest, toolLoopResponder } from './support/tool-loop-responder';
import type { ToolLoopResponder } from './support/tool-loop-responder';

/** The window the scripted model enforces, and the one Keel is told for `scripted-model`. */
const WINDOW = 20_000;
const STEPS = 40;
/** Long enough for the test to kill the worker; the hold ends as soon as the killed worker's connection closes. */
const HOLD_FIRST_COMPACTION_MS = 60_000;

let harness: TestStack;
let responder: ToolLoopResponder = toolLoopResponder({ steps: 0, outputBytes: 0 });
/** The summary text of each compaction request answered so far, by request. */
const summaries = new Map<RecordedRequest, string>();
let compactionRequests = 0;
let firstCompactionArrived: () => void = () => undefined;
const children: ChildProcess[] = [];

/** The tool loop's replies, with the first compaction request held (so the worker dies while it is in flight). */
function respond(request: RecordedRequest): ScriptedReply {
  const reply = responder.respond(request);
  if (!isCompactionRequest(request) || reply.kind !== 'text') return reply;
  compactionRequests += 1;
  summaries.set(request, reply.text);
  if (compactionRequests > 1) return reply;
  firstCompactionArrived();
  return { ...reply, delayMs: HOLD_FIRST_COMPACTION_MS };
}

beforeAll(async () => {
  harness = await startTestStack({
    runWorker: false,
    environment: { KEEL_MODEL_CONTEXT_WINDOWS: `scripted-model=${WINDOW}` },
    model: { contextWindowTokens: WINDOW, respond },
  });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await harness?.stop();
});

/** Starts a worker process of this file's stack. */
function startWorkerProcess(): Promise<ChildProcess> {
  return startWorkerWith(harness.workerEnvironment, children);
}

function ofType<Type extends SessionEvent['type']>(
  events: SessionEvent[],
  type: Type,
): Array<Extract<SessionEvent, { type: Type }>> {
  return events.filter((event): event is Extract<SessionEvent, { type: Type }> => event.type === type);
}

/**
 * The summarising requests grouped by compaction: those between two model calls belong to one compaction (its chunks,
 * and the attempts of a retried compaction Activity).
 */
function compactionsBetweenModelCalls(requests: RecordedRequest[]): RecordedRequest[][] {
  const groups: RecordedRequest[][] = [];
  let current: RecordedRequest[] | null = null;
  for (const request of requests) {
    if (!isCompactionRequest(request)) current = null;
    else if (current === null) groups.push((current = [request]));
    else current.push(request);
  }
  return groups;
}

/** The text of the first block of a request's first message (where a compacted conversation puts its summary). */
function firstMessageText(request: RecordedRequest): string {
  const first = request.body.messages[0];
  if (first === undefined) return '';
  if (typeof first.content === 'string') return first.content;
  const text = first.content[0]?.['text'];
  return typeof text === 'string' ? text : '';
}

describe('compaction and a worker crash', () => {
  it('a worker killed with SIGKILL during compaction resumes with no duplicate or missing event', async () => {
    const startedAt = Date.now();
    const first = await startWorkerProcess();
    const { id: sessionId } = await harness.client.createSession({ title: 'compaction crash' });
    const requestsBefore = harness.model.requests.length;
    const refusedBefore = harness.model.refusedForContextWindow.length;
    responder = toolLoopResponder({ steps: STEPS, outputBytes: 2_000, finalText: 'forty steps done' });
    const arrived = new Promise<void>((resolve) => (firstCompactionArrived = resolve));

    const streamed: SessionEvent[] = [];
    const controller = new AbortController();
    const follower = (async () => {
      for await (const item of harness.client.events(sessionId, { signal: controller.signal })) {
        if (item.kind === 'event') streamed.push(item.event);
      }
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) throw error;
    });
    // The stream delivers only what follows its opening: let it open before the message.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const message = await harness.client.sendMessage(sessionId, 'run forty commands');

    await arrived;
    // The compaction Activity is in flight (its model call is held open): the worker dies under it.
    const stepsBeforeCrash = responder.stepsAnswered();
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await startWorkerProcess();

    const idle = await harness.client.waitForIdle(sessionId, message.id);
    expect(idle).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    expect(responder.stepsAnswered()).toBe(STEPS);

    const events = await listAllEvents(harness.client, sessionId, 100);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(ofType(events, 'agent.tool_use')).toHaveLength(STEPS);
    const results = ofType(events, 'agent.tool_result');
    expect(results).toHaveLength(STEPS);
    for (const result of results) expect(JSON.stringify(result.content)).toMatch(/"text":"[A-Za-z0-9+/]{2000}"/);
    expect(new Set(results.map((result) => result.tool_use_id)).size).toBe(STEPS);

    // The follower opened before the message saw exactly what the list shows from the message on.
    controller.abort();
    await follower;
    const start = events.findIndex((event) => event.id === message.id);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(streamed.map((event) => event.id)).toEqual(events.slice(start).map((event) => event.id));

    // One `agent.thread_context_compacted` per compaction that completed: none for the attempt the crash cut off.
    const requests = harness.model.requests.slice(requestsBefore);
    const compactions = requests.filter(isCompactionRequest);
    expect(
      compactions.filter((request) => request.usage === undefined),
      'requests cut off by the crash',
    ).toHaveLength(1);
    const completed = compactionsBetweenModelCalls(requests);
    expect(completed.every((group) => group.at(-1)?.usage !== undefined)).toBe(true);
    const compacted = ofType(events, 'agent.thread_context_compacted');
    expect(compacted.length).toBeGreaterThanOrEqual(1);
    expect(compacted).toHaveLength(completed.length);
    for (const event of compacted) expect(event.pre_compaction_tokens).toBeGreaterThan(WINDOW / 2);
    expect(ofType(events, 'session.error')).toEqual([]);

    // The model never got a prompt over the window.
    expect(harness.model.refusedForContextWindow.slice(refusedBefore)).toEqual([]);
    expect(Math.max(...requests.map((request) => request.inputTokens))).toBeLessThanOrEqual(WINDOW);

    // The first model call after the retried compaction reads the summary that compaction got from the model.
    const cutOff = compactions.find((request) => request.usage === undefined)!;
    const afterCrash = requests.slice(requests.indexOf(cutOff) + 1);
    const nextCall = afterCrash.findIndex((request) => !isCompactionRequest(request));
    expect(nextCall).toBeGreaterThan(0);
    const summary = summaries.get(afterCrash[nextCall - 1]!);
    expect(summary).toBeDefined();
    expect(firstMessageText(afterCrash[nextCall]!)).toBe(`${SUMMARY_PREFIX}\n\n${summary}`);
    expect(stepsBeforeCrash, 'steps answered before the crash').toBeLessThan(STEPS);

    console.log(
      `compaction crash: ${compacted.length} compactions, ${compactions.length} summarising requests, ` +
        `${events.length} events, ${Math.round((Date.now() - startedAt) / 1000)} s`,
    );
    await harness.client.endSession(sessionId);
  });
});
