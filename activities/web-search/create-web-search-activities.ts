import type { WebSearchInput, WebSearchResult } from '../../common/web-search';
import { cancellationError, currentActivityControl, deadlineSignal, whileHeartbeating } from '../activity-control';
import { domainMatches } from '../web-fetch/web-fetch-policy';
import type { SearchHit, SearchProvider } from './search-provider';

/** The `web_search` Activity, as the worker registers it and the Workflow proxies it. */
export interface WebSearchActivities {
  webSearch: (input: WebSearchInput) => Promise<WebSearchResult>;
}

export interface WebSearchActivityOptions {
  provider: SearchProvider;
  /** Results the model sees at most. Default 10. */
  maxResults?: number;
  /** Deadline of one search. Default 20 s. */
  timeoutMs?: number;
}

/**
 * Builds the `web_search` Activity around a search provider. Results outside the tool's `allowed_domains` or inside
 * its `blocked_domains` are dropped; a provider failure is a tool error the model sees, never a thrown error.
 */
export function createWebSearchActivities(options: WebSearchActivityOptions): WebSearchActivities {
  const maxResults = options.maxResults ?? 10;
  const timeoutMs = options.timeoutMs ?? 20_000;
  return {
    webSearch: async (input) => {
      const control = currentActivityControl();
      const query = input.query.trim();
      if (query === '') return { output: 'web_search needs a non-empty "query".', isError: true };
      const { deadline, signal } = deadlineSignal(control, timeoutMs);
      let hits: SearchHit[];
      try {
        hits = await whileHeartbeating(control, () => options.provider.search(query, { signal }));
      } catch (error) {
        if (control.signal?.aborted) throw cancellationError(control.signal);
        const reason = deadline.aborted ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        return { output: `The search failed (${options.provider.name}): ${reason}`, isError: true };
      }
      const kept = hits.filter((hit) => passesFilters(hit.url, input)).slice(0, maxResults);
      if (kept.length === 0) return { output: `No results for "${query}".`, isError: false };
      return {
        output: kept.map((hit, index) => `${index + 1}. ${hit.title}\n   ${hit.url}\n   ${hit.snippet}`).join('\n'),
        isError: false,
      };
    },
  };
}

function passesFilters(url: string, filters: Pick<WebSearchInput, 'allowedDomains' | 'blockedDomains'>): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  if (filters.blockedDomains?.some((entry) => domainMatches(host, entry))) return false;
  if (filters.allowedDomains && filters.allowedDomains.length > 0) {
    return filters.allowedDomains.some((entry) => domainMatches(host, entry));
  }
  return true;
}
