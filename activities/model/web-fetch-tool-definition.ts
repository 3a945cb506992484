import type { Tool } from '../../common/model';
import { WEB_FETCH_TOOL_NAME } from '../../common/agent';

/**
 * The `web_fetch` tool as the model sees it. It runs in the worker, not in the sandbox, under the session
 * environment's networking policy (see `activities/web-fetch/`).
 */
export const WEB_FETCH_TOOL_DEFINITION: Tool = {
  name: WEB_FETCH_TOOL_NAME,
  description:
    'Fetch a web page or other text resource over HTTP(S) and return its content as text (HTML is converted to plain text). Only hosts the environment allows can be reached.',
  input_schema: {
    type: 'object',
    properties: { url: { type: 'string', description: 'The absolute http:// or https:// URL to fetch' } },
    required: ['url'],
  },
};
