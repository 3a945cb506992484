import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
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

/** Waits (30 s at most) until the session has gone idle after the event `eventId`; returns every event then. */
export async function untilIdleAfter(
  client: Anthropic,
  sessionId: string,
  eventId: string | undefined,
): Promise<BetaManagedAgentsSessionEvent[]> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const events = await allSessionEvents(client, sessionId);
    const start = events.findIndex((event) => event.id === eventId);
    if (start >= 0 && events.slice(start).some((event) => event.type === 'session.status_idle')) return events;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`session ${sessionId} did not go idle after ${eventId}`);
}
