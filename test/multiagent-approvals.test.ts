import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiagentResponder } from './support/multiagent-responder';
import type { ThreadRequest } from './support/multiagent-responder';
import type { ScriptedReply } from './scripted-model-server';
import { sdkClient } from './support/sdk';
import { execInSandbox, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

const COORDINATOR_SYSTEM = 'You coordinate the approvals test.';
const CHECKER_SYSTEM = 'You are the checker of the approvals test.';

/** How long the coordinator takes to end its turn after delegating (the checker may ask for approval meanwhile). */
let waitingDelayMs = 0;

/** The coordinator: delegates the check, waits, and ends once the checker's reply came. */
function coordinatorScript({ text, toolResultsOf }: ThreadRequest): ScriptedReply | undefined {
  if (text.includes('checker-done')) return { kind: 'text', text: 'The check is done.' };
  if (text.includes('Have two checks done')) {
    return { kind: 'tool_use', name: 'spawn_agent', input: { agent_name: 'checker', message: 'Run two checks.' } };
  }
  if (text.includes('Have it checked')) {
    return { kind: 'tool_use', name: 'spawn_agent', input: { agent_name: 'checker', message: 'Run the check.' } };
  }
  if (toolResultsOf.includes('spawn_agent')) {
    return { kind: 'text', text: 'Waiting for the checker.', delayMs: waitingDelayMs };
  }
  return undefined;
}

/** The checker: a bash call the user must approve, then its custom tool the client runs, then its reply. */
function checkerScript({ text, toolResultsOf, json }: ThreadRequest): ScriptedReply | undefined {
  if (json.includes('Run two checks')) {
    if (toolResultsOf.includes('bash')) return { kind: 'text', text: 'checker-done: both checks ran' };
    return {
      kind: 'tool_uses',
      calls: [
        { name: 'bash', input: { command: 'echo one >> /workspace/two.txt' } },
        { name: 'bash', input: { command: 'echo two >> /workspace/two.txt' } },
      ],
    };
  }
  if (toolResultsOf.includes('lookup')) {
    const found = /lookup-answer-\d+/.exec(json)?.[0] ?? 'nothing';
    return { kind: 'text', text: `checker-done: approved run, lookup said ${found}` };
  }
  if (toolResultsOf.includes('bash')) return { kind: 'tool_use', name: 'lookup', input: { key: 'status' } };
  if (text.includes('Run the check')) {
    return { kind: 'tool_use', name: 'bash', input: { command: 'echo approved-run > /workspace/approved.txt' } };
  }
  return undefined;
}

const responder = new MultiagentResponder({
  coordinator: { system: COORDINATOR_SYSTEM, script: coordinatorScript },
  checker: { system: CHECKER_SYSTEM, script: checkerScript },
});

type LooseEvent = { type: string; id: string; [key: string]: unknown };

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack({ model: { respond: responder.respond } });
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

/** The session's events, polled until one satisfies `found` (returned with all of them), for 60 s at most. */
async function eventsUntil(
  sessionId: string,
  found: (event: LooseEvent) => boolean,
  what: string,
): Promise<{ events: LooseEvent[]; match: LooseEvent }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events: LooseEvent[] = [];
    for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event as unknown as LooseEvent);
    const match = events.find(found);
    if (match !== undefined) return { events, match };
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${events.map((e) => e.type).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The session's events once it went idle with `end_turn`. */
function untilTurnEnds(sessionId: string): Promise<{ events: LooseEvent[]; match: LooseEvent }> {
  return eventsUntil(
    sessionId,
    (event) =>
      event.type === 'session.status_idle' &&
      (event['stop_reason'] as { type: string } | undefined)?.type === 'end_turn',
    'the end of the turn',
  );
}

describe('a child thread whose calls wait for the client', () => {
  it.each([
    ['ends its turn first', 0],
    ['ends its turn after the thread asked', 1_500],
  ])(
    'cross-posts its calls, the session idles with requires_action when the coordinator %s, and routes the answers',
    async (_when, delayMs) => {
      waitingDelayMs = delayMs;
      const checker = await client.beta.agents.create({
        name: 'checker',
        model: 'scripted-model',
        system: CHECKER_SYSTEM,
        tools: [
          { type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } },
          { type: 'custom', name: 'lookup', description: 'Looks a key up.', input_schema: { type: 'object' } },
        ],
      });
      const lead = await client.beta.agents.create({
        name: 'lead',
        model: 'scripted-model',
        system: COORDINATOR_SYSTEM,
        tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_allow' } } }],
        multiagent: { type: 'coordinator', agents: [checker.id] },
      });
      const environment = await client.beta.environments.create({ name: 'approvals', config: { type: 'cloud' } });
      const session = await client.beta.sessions.create({ agent: lead.id, environment_id: environment.id });
      await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: 'Have it checked.' }] }],
      });

      // The checker's bash call waits for a confirmation: cross-posted with its thread, and the session idles on it.
      const first = await eventsUntil(
        session.id,
        (event) => event.type === 'session.status_idle',
        "the session's idle on the checker's call",
      );
      const threadId = (first.events.find((event) => event.type === 'session.thread_created')?.['session_thread_id'] ??
        '') as string;
      expect(threadId).toMatch(/^sthr_/);
      const bashCall = first.events.find((event) => event.type === 'agent.tool_use');
      expect(bashCall).toMatchObject({ name: 'bash', evaluated_permission: 'ask', session_thread_id: threadId });
      expect(first.match).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [bashCall?.id] } });
      expect(
        first.events.find(
          (event) => event.type === 'session.thread_status_idle' && event['session_thread_id'] === threadId,
        ),
      ).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [bashCall?.id] } });
      expect(
        await execInSandbox(harness.docker, session.id, ['cat', '/workspace/approved.txt']).catch(() => ''),
      ).not.toContain('approved-run');

      // Approved through the session: the thread runs the call, then its custom tool waits for the client.
      const approval = await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: bashCall!.id, result: 'allow' }],
      });
      expect(approval.data?.[0]).toMatchObject({ type: 'user.tool_confirmation', session_thread_id: threadId });
      const second = await eventsUntil(
        session.id,
        (event) => event.type === 'agent.custom_tool_use',
        "the checker's custom tool call",
      );
      expect(second.match).toMatchObject({ name: 'lookup', session_thread_id: threadId });
      expect(
        second.events.find((event) => event.type === 'user.tool_confirmation' && event['tool_use_id'] === bashCall?.id),
      ).toMatchObject({ result: 'allow', session_thread_id: threadId });
      const idles = (events: LooseEvent[]): LooseEvent[] =>
        events.filter((event) => event.type === 'session.status_idle');
      const third = await eventsUntil(
        session.id,
        (event) => event.type === 'session.status_idle' && event.id !== first.match.id,
        'the idle on the custom tool',
      );
      expect(third.match).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [second.match.id] } });
      expect(await execInSandbox(harness.docker, session.id, ['cat', '/workspace/approved.txt'])).toContain(
        'approved-run',
      );

      await client.beta.sessions.events.send(session.id, {
        events: [
          {
            type: 'user.custom_tool_result',
            custom_tool_use_id: second.match.id,
            content: [{ type: 'text', text: 'lookup-answer-42' }],
          },
        ],
      });
      const done = await untilTurnEnds(session.id);
      expect(idles(done.events)).toHaveLength(3);
      expect(done.events.at(-1)?.type).toBe('session.status_idle');
      const received = done.events.find((event) => event.type === 'agent.thread_message_received');
      expect(JSON.stringify(received?.['content'])).toContain(
        'checker-done: approved run, lookup said lookup-answer-42',
      );
      expect(responder.of('coordinator').at(-1)?.text).toContain('lookup-answer-42');

      // The thread's own log has the answers as its own events.
      const own: LooseEvent[] = [];
      for await (const event of client.beta.sessions.threads.events.list(threadId, { session_id: session.id })) {
        own.push(event as unknown as LooseEvent);
      }
      const types = own.map((event) => event.type);
      expect(types).toContain('user.tool_confirmation');
      expect(types).toContain('user.custom_tool_result');
      expect(own.find((event) => event.type === 'agent.tool_use')?.id).toBe(bashCall?.id);
      expect(own.find((event) => event.type === 'agent.tool_use')?.['session_thread_id']).toBeUndefined();
    },
  );

  it('a thread waiting on two calls: each answer leaves an idle naming what still waits, and neither is listed twice', async () => {
    waitingDelayMs = 0;
    const checker = (await client.beta.agents.list()).data.find((agent) => agent.name === 'checker');
    const lead = (await client.beta.agents.list()).data.find((agent) => agent.name === 'lead');
    const environment = await client.beta.environments.create({ name: 'two approvals', config: { type: 'cloud' } });
    expect(checker).toBeDefined();
    const session = await client.beta.sessions.create({ agent: lead!.id, environment_id: environment.id });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'Have two checks done.' }] }],
    });
    const first = await eventsUntil(session.id, (event) => event.type === 'session.status_idle', 'the first idle');
    const calls = first.events.filter((event) => event.type === 'agent.tool_use').map((event) => event.id);
    expect(calls).toHaveLength(2);
    expect(first.match).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: calls } });

    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: calls[0]!, result: 'allow' }],
    });
    const second = await eventsUntil(
      session.id,
      (event) => event.type === 'session.status_idle' && event.id !== first.match.id,
      'the idle naming the call that still waits',
    );
    expect(second.match).toMatchObject({ stop_reason: { type: 'requires_action', event_ids: [calls[1]] } });
    const repeated = await client.beta.sessions.events
      .send(session.id, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: calls[1]!, result: 'allow' }],
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(repeated).toBeNull();
    const done = await untilTurnEnds(session.id);
    // Each call was cross-posted once, and answered once.
    expect(done.events.filter((event) => event.type === 'agent.tool_use').map((event) => event.id)).toEqual(calls);
    expect(done.events.filter((event) => event.type === 'user.tool_confirmation')).toHaveLength(2);
    expect(await execInSandbox(harness.docker, session.id, ['cat', '/workspace/two.txt'])).toMatch(/one\s+two/);
  });
});
