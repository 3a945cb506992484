import type { Tool } from '@modelcontextprotocol/sdk/types.js';

import type { ListMcpToolsInput, ListMcpToolsResult, McpToolDescriptor } from '../../common/mcp';
import type { ActivityControl } from '../activity-control';
import type { ResolvedMcpActivityOptions } from './mcp-options';
import { withMcpClient } from './with-mcp-client';

/**
 * Lists every tool an MCP server offers, following `tools/list` cursors (at most `maxToolPages` pages, and a cursor
 * seen twice is a loop), so the Workflow can offer them to the model.
 */
export async function listMcpTools(
  input: ListMcpToolsInput,
  options: ResolvedMcpActivityOptions,
  control: ActivityControl,
): Promise<ListMcpToolsResult> {
  const settings = { credentials: options.credentials, timeoutMs: options.listTimeoutMs };
  const outcome = await withMcpClient(input, settings, control, async ({ client, requestOptions }) => {
    const tools: McpToolDescriptor[] = [];
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < options.maxToolPages; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor }, requestOptions);
      tools.push(...result.tools.map(toDescriptor));
      cursor = result.nextCursor;
      if (cursor === undefined) return tools;
      if (seenCursors.has(cursor)) throw new Error(`its tools/list returned the cursor "${cursor}" twice.`);
      seenCursors.add(cursor);
    }
    throw new Error(`its tools/list returned more than ${options.maxToolPages} pages.`);
  });
  return outcome.ok ? { ok: true, tools: outcome.value } : outcome;
}

/** The JSON-plain part of an MCP tool that the model needs. */
function toDescriptor(tool: Tool): McpToolDescriptor {
  return { name: tool.name, description: tool.description ?? '', inputSchema: { ...tool.inputSchema } };
}
