/** One result of a web search. */
export interface SearchHit {
  title: string;
  url: string;
  snippet: string;
}

/**
 * A web search backend for the `web_search` tool. Keel ships `SearxngSearchProvider` (a self-hosted SearXNG instance's
 * JSON API); another backend is a class with this shape passed to `createWebSearchActivities`.
 */
export interface SearchProvider {
  /** Names the provider in messages. */
  readonly name: string;
  /** Results for `query`, best first; throws when the backend cannot answer. */
  search(query: string, options: { signal: AbortSignal }): Promise<SearchHit[]>;
}
