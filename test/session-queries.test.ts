import type { ChildProcess } from 'node:child_process';
import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { GRADER_TOOL_NAME } from '../common/outcome';
import { ApiError } from '../server/api-error';
import { askWithDeadlines, SessionQueries } from '../server/sessions/session-queries';
import { UPDATE_DEADLINE_MS, updateWithDeadline } from '../server/sessions/update-with-deadline';
import { getEventsQuery, updateSessionUpdate } from '../workflows/messages';
import { rejection, sdkClient, untilLog } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { startWorkerProcess } from './support/worker-process';

/** A gRPC failure as `@grpc/grpc-js` reports it (`code`, `details`, `metadata`). */
function grpcFailure(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const NOT_FOUND = 5;

/** `askWithDeadlines` over a script of attempt outcomes; records the deadlines it was given. */
async function ask(outcomes: (Error | string)[], attempts = 3): Promise<{ answer: unknown; deadlines: number[] }> {
  const deadlines: number[] = [];
  const answer = await askWithDeadlines(
    (deadline, run) => {
      deadlines.push(deadline - Date.now());
      return run();
    },
    () => {
      const outcome = outcomes[deadlines.length - 1];
      return outcome instanceof Error ? Promise.reject(outcome) : Promise.resolve(outcome ?? 'no outcome left');
    },
    { deadlineMs: 10_000, attempts, what: 'a Query of session sesn_x' },
  ).catch((error: unknown) => error);
  return { answer, deadlines };
}

describe('askWithDeadlines', () => {
  it('asks again after an attempt that passed its deadline, or that the server reset when its deadline passed', async () => {
    const afterDeadline = await ask([grpcFailure(DEADLINE_EXCEEDED, 'Deadline exceeded'), 'answer']);
    expect(afterDeadline.answer).toBe('answer');
    expect(afterDeadline.deadlines).toHaveLength(2);
    // Each attempt has a deadline of its own, 10 s from its start.
    for (const deadline of afterDeadline.deadlines) expect(deadline).toBeGreaterThan(9_900);

    const afterReset = await ask([grpcFailure(CANCELLED, 'Call cancelled'), 'answer']);
    expect(afterReset.answer).toBe('answer');
    expect(afterReset.deadlines).toHaveLength(2);
  });

  it('fails with a 504 timeout_error naming what was asked once every attempt went unanswered', async () => {
    const { answer, deadlines } = await ask([
      grpcFailure(DEADLINE_EXCEEDED, 'Deadline exceeded'),
      grpcFailure(CANCELLED, 'Call cancelled'),
      grpcFailure(DEADLINE_EXCEEDED, 'Deadline exceeded'),
      'too late',
    ]);
    expect(deadlines).toHaveLength(3);
    expect(answer).toBeInstanceOf(ApiError);
    const error = answer as ApiError;
    expect(error.status).toBe(504);
    expect(error.toBody().error.type).toBe('timeout_error');
    expect(error.message).toContain('no answer to a Query of session sesn_x in 3 attempts of up to 10 s each');
  });

  it('passes any other failure on at once, without asking again', async () => {
    const notFound = grpcFailure(NOT_FOUND, 'workflow not found');
    const { answer, deadlines } = await ask([notFound, 'answer']);
    expect(answer).toBe(notFound);
    expect(deadlines).toHaveLength(1);
  });
});

/** A scripted-model agent and a cloud environment, both named `name`, to create sessions with. */
async function agentAndEnvironment(
  client: Anthropic,
  name: string,
): Promise<{ agent: { id: string }; environment: { id: string } }> {
  const agent = await client.beta.agents.create({ name, model: 'scripted-model' });
  const environment = await client.beta.environments.create({ name, config: { type: 'cloud' } });
  return { agent, environment };
}

describe('SessionQueries on a real Temporal dev server', () => {
  let harness: TestStack;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    harness = await startTestStack({ runWorker: false });
  });

  // Each test starts the workers it needs: none outlives it, whether it passed or failed.
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('sessions.create answers without a worker, with the session its Workflow then reports once a worker runs', async () => {
    // No worker polls yet: the create waits one Query deadline (10 s) for the Workflow's answer, then answers with the
    // session as it starts. A 504 instead would have the client retry it into a second session.
    const client = sdkClient(harness.stack.apiUrl);
    const { agent, environment } = await agentAndEnvironment(client, 'no worker yet');
    const created = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: 'created before any worker',
      metadata: { team: 'keel' },
    });
    expect(created).toMatchObject({ status: 'idle', title: 'created before any worker', metadata: { team: 'keel' } });
    // Its initial events go out as Signals, which wait for no worker; the create answers with the session as it starts.
    const greeted = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello before any worker' }] }],
    });
    expect(greeted).toMatchObject({ status: 'idle', stats: { event_count: 0 } });
    harness.model.enqueue({ kind: 'text', text: 'taken once a worker ran' });

    // Only the session's age moves between the answers below.
    const withoutAge = (session: typeof created): unknown => ({
      ...session,
      stats: { ...session.stats, duration_seconds: undefined },
    });
    // Listed before its Workflow ran a task, from the listing it was started with.
    const listed = await client.beta.sessions.list({ limit: 10 });
    expect(listed.data.filter((session) => session.id === created.id).map(withoutAge)).toEqual([withoutAge(created)]);

    await startWorkerProcess(harness.workerEnvironment, children);
    const retrieved = await client.beta.sessions.retrieve(created.id);
    expect(withoutAge(retrieved)).toEqual(withoutAge(created));
    // The message sent before any worker ran is taken, answered, and logged once.
    const events = await untilLog(
      client,
      greeted.id,
      (logged) => logged.some((event) => event.type === 'session.status_idle'),
      {
        what: "the greeting's idle",
      },
    );
    expect(
      events.map((event) => event.type).filter((type) => !type.startsWith('span.') && type !== 'session.usage'),
    ).toEqual(['user.message', 'session.status_running', 'agent.message', 'session.status_idle']);
    expect(JSON.stringify(events)).toContain('taken once a worker ran');
  });

  it('sessions.create with a user.define_outcome and a message in initial_events answers without a worker; both are taken in order once one runs', async () => {
    const client = sdkClient(harness.stack.apiUrl);
    const { agent, environment } = await agentAndEnvironment(client, 'outcome before any worker');
    // No worker polls (the test before stopped its own). The initial events go as one Signal, which waits for none: as
    // an Update, the outcome waited for a worker (and the Query checking it answered 504 first). In the Workflow's
    // first task, Signals wait for their handlers and go in the order the handlers are set: one Signal keeps the
    // order of the events in it.
    const started = Date.now();
    const created = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      initial_events: [
        {
          type: 'user.define_outcome',
          description: 'Write a greeting before any worker runs.',
          rubric: { type: 'text', content: '- it greets' },
        },
        { type: 'user.message', content: [{ type: 'text', text: 'And then say goodbye.' }] },
      ],
    });
    expect(created).toMatchObject({ status: 'idle', stats: { event_count: 0 } });
    // One Query deadline (10 s) for the Workflow's answer, then the session as it starts.
    expect(Date.now() - started).toBeLessThan(20_000);

    // The outcome's turn and its grading, then the message's turn.
    harness.model.enqueue(
      { kind: 'text', text: 'Hello, before any worker.' },
      { kind: 'tool_use', name: GRADER_TOOL_NAME, input: { result: 'satisfied', explanation: 'It greets.' } },
      { kind: 'text', text: 'Goodbye, after the outcome.' },
    );
    await startWorkerProcess(harness.workerEnvironment, children);
    const events = await untilLog(
      client,
      created.id,
      (logged) => {
        const goodbye = logged.findIndex((event) => JSON.stringify(event).includes('Goodbye, after the outcome.'));
        return goodbye >= 0 && logged.slice(goodbye).some((event) => event.type === 'session.status_idle');
      },
      { what: "the message's answer after the outcome" },
    );
    // Each taken once, in the order sent: the outcome worked on and graded, then the message answered.
    const userEvents = events.filter((event) => event.type === 'user.define_outcome' || event.type === 'user.message');
    expect(userEvents.map((event) => event.type)).toEqual(['user.define_outcome', 'user.message']);
    const outcomeId = (userEvents[0] as { outcome_id: string }).outcome_id;
    const texts = events.flatMap((event) => (event.type === 'agent.message' ? [JSON.stringify(event)] : []));
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('Hello, before any worker.');
    expect(texts[1]).toContain('Goodbye, after the outcome.');
    const graded = events.findIndex((event) => event.type === 'span.outcome_evaluation_end');
    expect(events[graded]).toMatchObject({ outcome_id: outcomeId, result: 'satisfied' });
    // Graded before the message's turn answered.
    expect(graded).toBeLessThan(
      events.findIndex((event) => JSON.stringify(event).includes('Goodbye, after the outcome.')),
    );
    expect(harness.model.remaining()).toBe(0);
  });

  it('a session whose worker has stopped fails its Query with a 504 timeout_error; once a worker polls again, the same Query is answered', async () => {
    const worker = await startWorkerProcess(harness.workerEnvironment, children);
    const client = sdkClient(harness.stack.apiUrl);
    const { agent, environment } = await agentAndEnvironment(client, 'queries');
    const sessionId = (await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id })).id;
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    const queries = new SessionQueries(harness.stack.temporal, { deadlineMs: 1_500, attempts: 2 });

    const started = performance.now();
    const unanswered = await queries
      .run(sessionId, getEventsQuery, [{ after: -1, limit: 10 }])
      .catch((error: unknown) => error);
    expect(unanswered).toBeInstanceOf(ApiError);
    expect((unanswered as ApiError).status).toBe(504);
    expect((unanswered as ApiError).message).toContain(
      `no answer to a Query of session ${sessionId} in 2 attempts of up to 1.5 s each`,
    );
    // Both attempts ran to their deadline.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2_900);

    await startWorkerProcess(harness.workerEnvironment, children);
    const page = await new SessionQueries(harness.stack.temporal).run(sessionId, getEventsQuery, [
      { after: -1, limit: 10 },
    ]);
    // A new session has logged nothing yet and waits for its first message.
    expect(page).toMatchObject({ events: [], firstPosition: 0, nextPosition: 0, status: 'idle' });
  });

  it('an Update no worker takes fails with a 504 timeout_error once its deadline passes, and applies once a worker runs', async () => {
    const client = sdkClient(harness.stack.apiUrl);
    const { agent, environment } = await agentAndEnvironment(client, 'updates');
    // No worker polls: the create answers after one Query deadline with the session as it starts.
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: 'before',
    });
    const handle = harness.stack.temporal.workflow.getHandle(session.id);

    const started = performance.now();
    const [renamed, archived] = await Promise.all([
      updateWithDeadline(
        harness.stack.temporal,
        `the update of session ${session.id}`,
        () => handle.executeUpdate(updateSessionUpdate, { args: [{ title: 'after' }] }),
        1_500,
      ).catch((error: unknown) => error),
      // Through the API, with the server's own deadline.
      rejection(client.beta.sessions.archive(session.id)),
    ]);
    expect(renamed).toBeInstanceOf(ApiError);
    expect((renamed as ApiError).status).toBe(504);
    expect((renamed as ApiError).message).toContain(`No worker took the update of session ${session.id} within 1.5 s`);
    expect(archived.status).toBe(504);
    expect(archived.error).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
    expect(archived.message).toContain(
      `No worker took the archiving of session ${session.id} within ${UPDATE_DEADLINE_MS / 1000} s`,
    );
    expect(archived.message).toContain('The change is not confirmed');
    // The SDK is told not to send it again by itself.
    expect(archived.headers?.get('x-should-retry')).toBe('false');
    expect(performance.now() - started).toBeGreaterThanOrEqual(UPDATE_DEADLINE_MS - 1_000);

    // The Temporal server held both Updates: once a worker runs, they apply, as the 504's message says they may.
    await startWorkerProcess(harness.workerEnvironment, children);
    const deadline = Date.now() + 30_000;
    let latest = await client.beta.sessions.retrieve(session.id);
    while ((latest.title !== 'after' || latest.archived_at === null) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      latest = await client.beta.sessions.retrieve(session.id);
    }
    expect(latest).toMatchObject({ title: 'after', archived_at: expect.any(String) });
  });
});
