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

/** What the server tells the page of its deployment (`GET /console/config.json`, see server/console-routes.ts). */
export interface ConsoleConfig {
  temporal_ui_url: string | null;
  temporal_namespace: string;
}

/** Reads the console's configuration; without it (an older server), the page shows no Temporal UI link. */
export async function fetchConsoleConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console/config.json', { cache: 'no-store' });
  if (!response.ok) return { temporal_ui_url: null, temporal_namespace: 'default' };
  return (await response.json()) as ConsoleConfig;
}

/** The Temporal UI's page of a session's Workflow (Workflow ID = session id), or `null` when no UI is known. */
export function workflowUrl(config: ConsoleConfig | null, sessionId: string): string | null {
  if (config?.temporal_ui_url == null) return null;
  const namespace = encodeURIComponent(config.temporal_namespace);
  return `${config.temporal_ui_url}/namespaces/${namespace}/workflows/${encodeURIComponent(sessionId)}`;
}
