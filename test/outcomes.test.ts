import type Anthropic from '@anthropic-ai/sdk';
import { toFile } from '@anthropic-ai/sdk';
import type {
  BetaManagedAgentsSessionEvent,
  BetaManagedAgentsUserDefineOutcomeEvent,
  BetaManagedAgentsUserDefineOutcomeEventParams,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsOutcomeEvaluationResource } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerTracing } from '../worker/worker-tracing';
import { sharedWorkflowBundle } from './support/workflow-bundle';
import { GRADER_SYSTEM_PROMPT, GRADER_TOOL_NAME } from '../common/outcome';
import { lastUserText } from '../cli/demo-model/messages-wire';
import { shapeProblems } from './support/conformance';
import type { Shape } from './support/conformance';
import { OutcomeResponder } from './support/outcome-responder';
import {
  defineOutcomeShape as defineShape,
  evaluationEndShape as endShape,
  evaluationOngoingShape as ongoingShape,
  evaluationStartShape as startShape,
  outcomeEvaluationShape as evaluationShape,
  spanUsageShape as usageShape,
} from './support/outcome-shapes';
import { rejection, sdkClient, untilLog } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const responder = new OutcomeResponder();
let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  // Runs continue-as-new after 2 model steps, so an outcome's work and evaluation cross runs.
  harness = await startTestStack({
    model: { respond: responder.respond },
    environment: { KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '2' },
  });
  client = sdkClient(harness.stack.apiUrl);
  const agent = await client.beta.agents.create({
    name: 'outcome worker',
    model: 'scripted-model',
    system: 'You are the outcome worker.',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  agentId = agent.id;
  environmentId = (await client.beta.environments.create({ name: 'outcomes env', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

const RUBRIC = '# Greeting rubric\n- hello.txt exists in the workspace\n- it contains the word banana';

async function newSession(title: string): Promise<string> {
  return (await client.beta.sessions.create({ agent: agentId, environment_id: environmentId, title })).id;
}

/** Sends a `user.define_outcome` and returns its echo. */
async function defineOutcome(
  sessionId: string,
  description: string,
  rubric: { type: 'text'; content: string } | { type: 'file'; file_id: string } = { type: 'text', content: RUBRIC },
  maxIterations?: number,
): Promise<BetaManagedAgentsUserDefineOutcomeEvent> {
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [
      {
        type: 'user.define_outcome',
        description,
        rubric,
        ...(maxIterations === undefined ? {} : { max_iterations: maxIterations }),
      },
    ],
  });
  const echo = sent.data?.[0];
  if (echo?.type !== 'user.define_outcome') throw new Error(`unexpected echo ${JSON.stringify(echo)}`);
  return echo;
}

/** Waits until the outcome's terminal evaluation end (or interrupt) is logged and the session is idle after it. */
function untilOutcomeOver(sessionId: string, outcomeId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  return untilLog(
    client,
    sessionId,
    (events) => {
      const end = events.findLastIndex(
        (event) =>
          event.type === 'span.outcome_evaluation_end' &&
          event.outcome_id === outcomeId &&
          event.result !== 'needs_revision',
      );
      return end >= 0 && events.slice(end).some((event) => event.type === 'session.status_idle');
    },
    { timeoutMs: 60_000, what: `the end of outcome ${outcomeId}` },
  );
}

function ofType<T extends BetaManagedAgentsSessionEvent['type']>(
  events: BetaManagedAgentsSessionEvent[],
  type: T,
): Array<Extract<BetaManagedAgentsSessionEvent, { type: T }>> {
  return events.filter((event): event is Extract<BetaManagedAgentsSessionEvent, { type: T }> => event.type === type);
}

describe('outcomes (user.define_outcome) through the official SDK', () => {
  it('works on the description, grades the work in a separate context, and ends satisfied at the first evaluation', async () => {
    const sessionId = await newSession('outcome satisfied');
    responder.agent(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo banana > hello.txt' }, text: 'Writing it.' },
      { kind: 'text', text: 'hello.txt now holds banana.' },
    );
    responder.grader({ result: 'satisfied', explanation: 'Both criteria are met: hello.txt exists with banana.' });
    const agentBefore = responder.agentRequests.length;
    const graderBefore = responder.graderRequests.length;

    const echo = await defineOutcome(sessionId, 'Write hello.txt containing the word banana.');
    expect(shapeProblems(echo, defineShape, 'user.define_outcome')).toEqual([]);
    expect(echo).toMatchObject({
      description: 'Write hello.txt containing the word banana.',
      rubric: { type: 'text', content: RUBRIC },
      max_iterations: null,
    });
    const events = await untilOutcomeOver(sessionId, echo.outcome_id);
    const fromDefine = events.slice(events.findIndex((event) => event.id === echo.id));
    const types = fromDefine.map((event) => event.type);
    // The session stays running from the work to the verdict; it goes idle once, after the evaluation.
    expect(types.filter((type) => type === 'session.status_idle')).toHaveLength(1);
    expect(types.slice(0, 2)).toEqual(['user.define_outcome', 'session.status_running']);
    expect(types.slice(-3)).toEqual(['span.outcome_evaluation_end', 'session.usage', 'session.status_idle']);
    const [start] = ofType(fromDefine, 'span.outcome_evaluation_start');
    const ongoing = ofType(fromDefine, 'span.outcome_evaluation_ongoing');
    const [end] = ofType(fromDefine, 'span.outcome_evaluation_end');
    expect(types.indexOf('span.outcome_evaluation_start')).toBeGreaterThan(types.lastIndexOf('agent.message'));
    expect(ongoing.length).toBeGreaterThanOrEqual(1);
    expect(start).toMatchObject({ outcome_id: echo.outcome_id, iteration: 0 });
    expect(end).toMatchObject({
      outcome_id: echo.outcome_id,
      outcome_evaluation_start_id: start?.id,
      iteration: 0,
      result: 'satisfied',
      explanation: 'Both criteria are met: hello.txt exists with banana.',
    });
    expect(end?.usage.input_tokens).toBeGreaterThan(0);
    for (const [event, shape] of [
      [start, startShape],
      [ongoing[0], ongoingShape],
      [end, endShape],
    ] as const) {
      expect(shapeProblems(event, shape as Shape<unknown>, event?.type ?? 'missing')).toEqual([]);
    }
    expect(shapeProblems(end?.usage, usageShape, 'usage')).toEqual([]);

    // The agent's turn started from the description; the grader got its own context: its prompt, the rubric, the
    // task and the agent's work, with the verdict tool forced, and nothing of the agent's system prompt.
    expect(lastUserText(responder.agentRequests[agentBefore]!.body)).toBe(
      'Write hello.txt containing the word banana.',
    );
    expect(responder.graderRequests.length - graderBefore).toBe(1);
    const grader = responder.graderRequests[graderBefore]!.body;
    expect(JSON.stringify(grader.system)).toContain(GRADER_SYSTEM_PROMPT.slice(0, 40));
    expect(JSON.stringify(grader)).not.toContain('You are the outcome worker.');
    expect(grader['tool_choice']).toEqual({ type: 'tool', name: GRADER_TOOL_NAME });
    expect(grader.messages).toHaveLength(1);
    const prompt = lastUserText(grader);
    expect(prompt).toContain(RUBRIC);
    expect(prompt).toContain('<task>\nWrite hello.txt containing the word banana.\n</task>');
    expect(prompt).toContain('hello.txt now holds banana.');
    expect(prompt).toContain('call bash {"command":"echo banana > hello.txt"}');

    const session = await client.beta.sessions.retrieve(sessionId);
    expect(session.status).toBe('idle');
    expect(session.outcome_evaluations).toHaveLength(1);
    const [evaluation] = session.outcome_evaluations;
    expect(shapeProblems(evaluation, evaluationShape, 'outcome_evaluations[0]')).toEqual([]);
    expect(evaluation).toMatchObject({
      outcome_id: echo.outcome_id,
      description: 'Write hello.txt containing the word banana.',
      result: 'satisfied',
      iteration: 0,
      explanation: 'Both criteria are met: hello.txt exists with banana.',
      completed_at: end?.processed_at,
    });
    // Listings show it too (from the listing the Workflow publishes).
    let listed: BetaManagedAgentsOutcomeEvaluationResource[] | undefined;
    for await (const item of client.beta.sessions.list({ agent_id: agentId })) {
      if (item.id === sessionId) listed = item.outcome_evaluations;
    }
    expect(listed).toEqual(session.outcome_evaluations);
  });

  it('hands a needs_revision explanation back to the agent, which revises without the client, then is satisfied', async () => {
    const sessionId = await newSession('outcome revised');
    const explanation = 'Criterion 2 failed: hello.txt does not contain the word banana.';
    responder.agent(
      { kind: 'text', text: 'Wrote hello.txt with apple.' },
      { kind: 'text', text: 'Now it says banana.' },
    );
    responder.grader(
      { result: 'needs_revision', explanation },
      { result: 'satisfied', explanation: 'banana is there now.' },
    );
    const agentBefore = responder.agentRequests.length;
    const echo = await defineOutcome(sessionId, 'Write a greeting file.', undefined, 5);
    expect(echo.max_iterations).toBe(5);
    const events = await untilOutcomeOver(sessionId, echo.outcome_id);

    const ends = ofType(events, 'span.outcome_evaluation_end');
    expect(ends.map((end) => [end.iteration, end.result])).toEqual([
      [0, 'needs_revision'],
      [1, 'satisfied'],
    ]);
    expect(ofType(events, 'span.outcome_evaluation_start').map((start) => start.iteration)).toEqual([0, 1]);
    // No idle between the two iterations: one turn's worth of status for the whole outcome.
    expect(ofType(events, 'session.status_idle')).toHaveLength(1);
    expect(ofType(events, 'user.message')).toHaveLength(0);
    // The second iteration's model call carries the grader's explanation as a user message.
    const revision = responder.agentRequests[agentBefore + 1]!.body;
    expect(lastUserText(revision)).toContain(explanation);
    expect(JSON.stringify(revision.messages)).toContain('Wrote hello.txt with apple.');

    const session = await client.beta.sessions.retrieve(sessionId);
    expect(session.outcome_evaluations).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'satisfied', iteration: 1, explanation: 'banana is there now.' },
    ]);
  });

  it('ends max_iterations_reached when the budget is spent, after one final turn and no further evaluation', async () => {
    const sessionId = await newSession('outcome out of iterations');
    responder.agent(
      { kind: 'text', text: 'try one' },
      { kind: 'text', text: 'try two' },
      { kind: 'text', text: 'Out of attempts: banana is still missing.' },
    );
    responder.grader(
      { result: 'needs_revision', explanation: 'still no banana (1)' },
      { result: 'needs_revision', explanation: 'still no banana (2)' },
    );
    const agentBefore = responder.agentRequests.length;
    const graderBefore = responder.graderRequests.length;
    const echo = await defineOutcome(sessionId, 'Write banana.', undefined, 2);
    const events = await untilOutcomeOver(sessionId, echo.outcome_id);
    const ends = ofType(events, 'span.outcome_evaluation_end');
    expect(ends.map((end) => [end.iteration, end.result])).toEqual([
      [0, 'needs_revision'],
      [1, 'max_iterations_reached'],
    ]);
    const last = events.findLastIndex((event) => event.type === 'span.outcome_evaluation_end');
    // The final acknowledgment turn follows the last verdict, then the session goes idle.
    expect(events.slice(last).map((event) => event.type)).toContain('agent.message');
    expect(ofType(events.slice(last), 'agent.message')[0]?.content).toEqual([
      { type: 'text', text: 'Out of attempts: banana is still missing.' },
    ]);
    expect(responder.graderRequests.length - graderBefore).toBe(2);
    expect(responder.agentRequests.length - agentBefore).toBe(3);
    expect(lastUserText(responder.agentRequests[agentBefore + 2]!.body)).toContain('still no banana (2)');
    const session = await client.beta.sessions.retrieve(sessionId);
    expect(session.outcome_evaluations).toMatchObject([
      { result: 'max_iterations_reached', iteration: 1, explanation: 'still no banana (2)' },
    ]);
    expect(session.outcome_evaluations[0]?.completed_at).toEqual(expect.any(String));
  });

  it('refuses malformed outcomes with 400s naming the field, and a second outcome while one is evaluated', async () => {
    const sessionId = await newSession('outcome validation');
    const send = (event: Record<string, unknown>): Promise<unknown> =>
      client.beta.sessions.events.send(sessionId, {
        events: [{ type: 'user.define_outcome', ...event } as never],
      });
    const rubric = { type: 'text', content: RUBRIC };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ rubric }, /description/],
      [{ description: '   ', rubric }, /description must not be empty/],
      [{ description: 'x' }, /rubric is required/],
      [{ description: 'x', rubric: { type: 'text', content: '' } }, /rubric content must not be empty/],
      [
        { description: 'x', rubric: { type: 'file', file_id: 'file_0123456789abcdef' } },
        /no file file_0123456789abcdef/,
      ],
      [{ description: 'x', rubric, max_iterations: 0 }, /max_iterations must be at least 1/],
      [{ description: 'x', rubric, max_iterations: 21 }, /max_iterations must be at most 20/],
      [{ description: 'x', rubric, max_iterations: 1.5 }, /max_iterations must be an integer/],
    ];
    for (const [event, message] of cases) {
      const error = await rejection(send(event));
      expect(error.status, JSON.stringify(event)).toBe(400);
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect(error.message, JSON.stringify(event)).toMatch(message);
    }
    const sessionsBefore = (await client.beta.sessions.list({ agent_id: agentId, limit: 100 })).data.length;
    /** A sessions.create with these initial events, refused (before the session exists). */
    const refusedCreate = (initialEvents: BetaManagedAgentsUserDefineOutcomeEventParams[]) =>
      rejection(
        client.beta.sessions.create({ agent: agentId, environment_id: environmentId, initial_events: initialEvents }),
      );
    const outcome = (description: string): BetaManagedAgentsUserDefineOutcomeEventParams => ({
      type: 'user.define_outcome',
      description,
      rubric: { type: 'text', content: 'r' },
    });
    const unknownFile = await refusedCreate([
      { type: 'user.define_outcome', description: 'x', rubric: { type: 'file', file_id: 'file_0123456789abcdef' } },
    ]);
    expect(unknownFile.status).toBe(400);
    expect(unknownFile.message).toContain('initial_events[0].rubric.file_id');
    const two = await rejection(client.beta.sessions.events.send(sessionId, { events: [outcome('a'), outcome('b')] }));
    expect(two.status).toBe(400);
    expect(two.message).toMatch(/at most one user.define_outcome per request/);
    // The same rule for a new session's initial events.
    const twoInitial = await refusedCreate([outcome('a'), outcome('b')]);
    expect(twoInitial.status).toBe(400);
    expect(twoInitial.message).toContain('initial_events[1]');
    expect(twoInitial.message).toMatch(/at most one user.define_outcome per request/);
    expect((await client.beta.sessions.list({ agent_id: agentId, limit: 100 })).data).toHaveLength(sessionsBefore);

    // A grader that does not answer keeps the outcome evaluating: a second outcome is refused, an interrupt ends it.
    responder.agent({ kind: 'text', text: 'done, I think' });
    responder.grader('hang');
    const echo = await defineOutcome(sessionId, 'Do the thing.');
    await untilLog(
      client,
      sessionId,
      (events) => events.some((event) => event.type === 'span.outcome_evaluation_ongoing'),
      {
        what: 'the evaluation to run',
      },
    );
    expect((await client.beta.sessions.retrieve(sessionId)).outcome_evaluations).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'evaluating', completed_at: null },
    ]);
    expect((await client.beta.sessions.retrieve(sessionId)).status).toBe('running');
    const busy = await rejection(defineOutcome(sessionId, 'Another thing.'));
    expect(busy.status).toBe(400);
    expect(busy.message).toContain(`outcome ${echo.outcome_id} is still evaluating`);
    await client.beta.sessions.events.send(sessionId, { events: [{ type: 'user.interrupt' }] });
    const events = await untilOutcomeOver(sessionId, echo.outcome_id);
    expect(ofType(events, 'span.outcome_evaluation_end')).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'interrupted', iteration: 0 },
    ]);
    expect((await client.beta.sessions.retrieve(sessionId)).outcome_evaluations).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'interrupted', completed_at: expect.any(String) },
    ]);

    // Once it is over, the next outcome is taken; its rubric may be an uploaded file, which the grader reads.
    const file = await client.beta.files.upload({
      file: await toFile(Buffer.from('# File rubric\n- says pear\n'), 'rubric.md', { type: 'text/plain' }),
    });
    responder.agent({ kind: 'text', text: 'pear' });
    responder.grader({ result: 'satisfied', explanation: 'It says pear.' });
    const graderBefore = responder.graderRequests.length;
    const next = await defineOutcome(sessionId, 'Say pear.', { type: 'file', file_id: file.id });
    expect(next.rubric).toEqual({ type: 'file', file_id: file.id });
    await untilOutcomeOver(sessionId, next.outcome_id);
    expect(lastUserText(responder.graderRequests[graderBefore]!.body)).toContain('# File rubric\n- says pear');
    expect((await client.beta.sessions.retrieve(sessionId)).outcome_evaluations.map((o) => o.result)).toEqual([
      'interrupted',
      'satisfied',
    ]);
  });

  it('ends an outcome interrupted during the work, with no evaluation, and takes the next one after it', async () => {
    const sessionId = await newSession('outcome interrupted at work');
    responder.agent({ kind: 'hang' });
    const graderBefore = responder.graderRequests.length;
    const echo = await defineOutcome(sessionId, 'Work forever.');
    await untilLog(client, sessionId, (events) => events.some((event) => event.type === 'span.model_request_start'), {
      what: 'the work to start',
    });
    expect((await client.beta.sessions.retrieve(sessionId)).outcome_evaluations).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'running', iteration: 0, explanation: null, completed_at: null },
    ]);
    await client.beta.sessions.events.send(sessionId, { events: [{ type: 'user.interrupt' }] });
    const events = await untilLog(
      client,
      sessionId,
      (logged) => logged.some((event) => event.type === 'session.status_idle'),
      { what: 'the idle after the interrupt' },
    );
    expect(ofType(events, 'span.outcome_evaluation_start')).toHaveLength(0);
    expect(responder.graderRequests.length).toBe(graderBefore);
    const [evaluation] = (await client.beta.sessions.retrieve(sessionId)).outcome_evaluations;
    expect(evaluation).toMatchObject({ result: 'interrupted', completed_at: expect.any(String) });
  });

  it('starts from initial_events, carries the outcome across continue-as-new mid-work, and replays deterministically', async () => {
    responder.agent(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo one > a.txt' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo two >> a.txt' } },
      { kind: 'text', text: 'a.txt has two lines.' },
      { kind: 'text', text: 'a.txt has three lines now.' },
    );
    responder.grader(
      { result: 'needs_revision', explanation: 'a.txt needs a third line.' },
      { result: 'satisfied', explanation: 'Three lines.' },
    );
    const graderBefore = responder.graderRequests.length;
    const session = await client.beta.sessions.create({
      agent: agentId,
      environment_id: environmentId,
      title: 'outcome across runs',
      initial_events: [
        {
          type: 'user.define_outcome',
          description: 'Write a.txt with three lines.',
          rubric: { type: 'text', content: '- three lines' },
        },
      ],
    });
    const handle = harness.stack.temporal.workflow.getHandle(session.id);
    const firstRunId = (await handle.describe()).runId;
    const defined = await untilLog(client, session.id, (events) =>
      events.some((e) => e.type === 'user.define_outcome'),
    );
    const echo = ofType(defined, 'user.define_outcome')[0]!;
    const events = await untilOutcomeOver(session.id, echo.outcome_id);
    expect(ofType(events, 'span.outcome_evaluation_end').map((end) => [end.iteration, end.result])).toEqual([
      [0, 'needs_revision'],
      [1, 'satisfied'],
    ]);
    expect(responder.graderRequests.length - graderBefore).toBe(2);
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    const retrieved = await client.beta.sessions.retrieve(session.id);
    expect(retrieved.outcome_evaluations).toMatchObject([
      { outcome_id: echo.outcome_id, result: 'satisfied', iteration: 1, explanation: 'Three lines.' },
    ]);

    // Every run of this session, and of an outcome session in one run, replays with the current Workflow code.
    const histories = [];
    for await (const execution of harness.stack.temporal.workflow.list({
      query: `WorkflowId = '${session.id}'`,
    })) {
      const history = await harness.stack.temporal.workflow.getHandle(session.id, execution.runId).fetchHistory();
      histories.push({ workflowId: `${session.id}/${execution.runId}`, history });
    }
    expect(histories.length).toBeGreaterThan(1);
    const bundle = await sharedWorkflowBundle();
    const options = { workflowBundle: { code: bundle.code }, sinks: workerTracing(undefined).sinks };
    for await (const result of Worker.runReplayHistories(options, histories)) {
      expect(result.error, `replay of ${result.workflowId}`).toBeUndefined();
    }
  });

  it('grades the whole iteration when the session continued-as-new during it: earlier runs’ tool results, stored ones too', async () => {
    const sessionId = await newSession('outcome iteration across runs');
    // Runs continue-as-new after 2 model steps: the first two tool calls and their results are logged by an earlier
    // run than the one that grades. The second output is long, so its text is kept in the blob store.
    responder.agent(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo early-run-output-one' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo stored-early-output; seq 1 400' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo late-run-output-three' } },
      { kind: 'text', text: 'All three steps ran.' },
    );
    responder.grader({ result: 'satisfied', explanation: 'Every step ran.' });
    const graderBefore = responder.graderRequests.length;
    const handle = harness.stack.temporal.workflow.getHandle(sessionId);
    const firstRunId = (await handle.describe()).runId;

    const echo = await defineOutcome(sessionId, 'Run the three steps.', { type: 'text', content: '- three steps ran' });
    const events = await untilOutcomeOver(sessionId, echo.outcome_id);
    expect(ofType(events, 'span.outcome_evaluation_end').map((end) => end.result)).toEqual(['satisfied']);
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    expect(responder.graderRequests.length - graderBefore).toBe(1);

    const prompt = lastUserText(responder.graderRequests[graderBefore]!.body);
    const account = prompt.slice(prompt.indexOf('<agent_tool_calls>'));
    expect(account).toContain('call bash {"command":"echo early-run-output-one"}');
    expect(account).toContain('result: early-run-output-one');
    expect(account).toContain('result: stored-early-output\n1\n2\n3\n');
    expect(account).toContain('result: late-run-output-three');
    expect(account).not.toContain('not shown');
    expect(account).not.toContain('(output stored)');
    expect(prompt).toContain('All three steps ran.');
    // The account lists the calls and results in the order they ran, as one run would have.
    const order = ['early-run-output-one', 'stored-early-output', 'late-run-output-three'].map((text) =>
      account.indexOf(`result: ${text}`),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
