import Anthropic, { APIError } from '@anthropic-ai/sdk';
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
