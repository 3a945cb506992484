import { WEB_SEARCH_TOOL_NAME } from '../../common/agent';
import type { Tool } from '../../common/model';

/**
 * The `web_search` tool as the model sees it. A worker offers it only when it has a search provider (see
 * `activities/web-search/`); without one the model never sees it.
 */
export const WEB_SEARCH_TOOL_DEFINITION: Tool = {
  name: WEB_SEARCH_TOOL_NAME,
  description: 'Search the web. Returns the top results with their title, URL and a snippet.',
  input_schema: {
    type: 'object',
    properties: { query: { type: 'string', description: 'The search query' } },
    required: ['query'],
  },
};
