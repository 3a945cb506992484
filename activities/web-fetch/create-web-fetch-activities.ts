import type { WebFetchInput, WebFetchResult } from '../../common/web-fetch';
import { currentActivityControl } from '../activity-control';
import { webFetch } from './web-fetch';
import { resolveWebFetchActivityOptions } from './web-fetch-options';
import type { WebFetchActivityOptions } from './web-fetch-options';

export type { WebFetchActivityOptions } from './web-fetch-options';

/** The `web_fetch` Activity, as the worker registers it and the Workflow proxies it (`import type`). */
export interface WebFetchActivities {
  webFetch: (input: WebFetchInput) => Promise<WebFetchResult>;
}

/**
 * Builds the `web_fetch` Activity with the worker's limits. It runs in the worker, never in the sandbox, heartbeats
 * while it waits and honours the Activity's cancellation; called outside an Activity it simply runs.
 */
export function createWebFetchActivities(options: WebFetchActivityOptions = {}): WebFetchActivities {
  const resolved = resolveWebFetchActivityOptions(options);
  return {
    webFetch: (input) => webFetch(input, resolved, currentActivityControl()),
  };
}
