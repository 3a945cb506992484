/** Input of the `webSearch` Activity: the `web_search` tool, run in the worker through its search provider. */
export interface WebSearchInput {
  sessionId: string;
  query: string;
  /** The tool config's domain filters, when set: results outside them are dropped. */
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** What the model sees: numbered results (title, URL, snippet), or a failure as `isError`. */
export interface WebSearchResult {
  output: string;
  isError: boolean;
}
