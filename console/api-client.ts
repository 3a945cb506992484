import Anthropic from '@anthropic-ai/sdk';

/** Where the API key lives: this tab's sessionStorage, so closing the tab signs out. */
const KEY_STORAGE = 'keel-api-key';

/**
 * The official SDK pointed at the Keel that served this page (same origin), so every request the console makes goes
 * through Keel's public HTTP API. The key is the user's own, typed into this page: hence `dangerouslyAllowBrowser`.
 */
export function createApiClient(apiKey: string): Anthropic {
  return new Anthropic({ apiKey, baseURL: window.location.origin, dangerouslyAllowBrowser: true, maxRetries: 1 });
}

/** The key this tab signed in with, if any. */
export function storedApiKey(): string | null {
  return window.sessionStorage.getItem(KEY_STORAGE);
}

/** Keeps the key for this tab, or forgets it (`null`). */
export function storeApiKey(apiKey: string | null): void {
  if (apiKey === null) window.sessionStorage.removeItem(KEY_STORAGE);
  else window.sessionStorage.setItem(KEY_STORAGE, apiKey);
}

/** A sentence for an error of the API or the network, for the page to show. */
export function describeError(error: unknown): string {
  if (error instanceof Anthropic.AuthenticationError)
    return 'The API key was refused (401): check it and sign in again.';
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    const body = error.error as { error?: { message?: string } } | undefined;
    return `The API answered ${error.status}: ${body?.error?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
