import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { ScriptedModelServer } from '../scripted-model-server';
import { TEST_API_KEY } from './test-stack';

/** The official SDK pointed at a Keel under test, without retries: a 409 or 404 must surface at once. */
export function sdkClient(baseURL: string, apiKey: string = TEST_API_KEY): Anthropic {
  return new Anthropic({ baseURL, apiKey, maxRetries: 0 });
}

/**
 * Like `sdkClient`, and every response body (not event streams) is pushed onto `bodies`, so a test can search
 * everything the API answered.
 */
export function recordingSdkClient(baseURL: string, bodies: string[]): Anthropic {
  return new Anthropic({
    baseURL,
    apiKey: TEST_API_KEY,
    maxRetries: 0,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
        bodies.push(await response.clone().text());
      }
      return response;
    },
  });
}

/** Resolves to the API error `promise` rejects with; fails the test when it resolves or fails otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** Every event of a session, listed through the SDK's auto-paging. */
export async function allSessionEvents(client: Anthropic, sessionId: string): Promise<BetaManagedAgentsSessionEvent[]> {
  const events: BetaManagedAgentsSessionEvent[] = [];
  for await (const event of client.beta.sessions.events.list(sessionId, { limit: 100 })) events.push(event);
  return events;
}

/**
 * Polls the session's log (every 100 ms, `timeoutMs` at most) until `predicate` holds for it, and returns it; fails
 * naming `what` and the log's event types when it never does.
 */
export async function untilLog(
  client: Anthropic,
  sessionId: string,
  predicate: (events: BetaManagedAgentsSessionEvent[]) => boolean,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<BetaManagedAgentsSessionEvent[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const events = await allSessionEvents(client, sessionId);
    if (predicate(events)) return events;
    if (Date.now() > deadline) {
      const types = JSON.stringify(events.map((event) => event.type));
      throw new Error(`session ${sessionId}: timed out waiting for ${options.what ?? 'the log'}; log: ${types}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits (30 s at most) until the session has gone idle after the event `eventId`; returns every event then. */
export function untilIdleAfter(
  client: Anthropic,
  sessionId: string,
  eventId: string | undefined,
): Promise<BetaManagedAgentsSessionEvent[]> {
  return untilLog(
    client,
    sessionId,
    (events) => {
      const start = events.findIndex((event) => event.id === eventId);
      return start >= 0 && events.slice(start).some((event) => event.type === 'session.status_idle');
    },
    { timeoutMs: 30_000, what: `an idle after ${eventId}` },
  );
}

/**
 * Runs one turn whose model (the scripted `model`) makes one bash call running `command`, then answers `ok`; resolves
 * with that call's `agent.tool_result`, as JSON.
 */
export async function bashTurn(
  client: Anthropic,
  model: ScriptedModelServer,
  sessionId: string,
  command: string,
): Promise<string> {
  model.enqueue({ kind: 'tool_use', name: 'bash', input: { command } }, { kind: 'text', text: 'ok' });
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: command }] }],
  });
  const id = sent.data?.[0]?.id;
  const events = await untilIdleAfter(client, sessionId, id);
  const result = events.slice(events.findIndex((event) => event.id === id)).find((e) => e.type === 'agent.tool_result');
  return JSON.stringify(result);
}
