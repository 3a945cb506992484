import type { CallMcpToolInput, CallMcpToolResult, ListMcpToolsInput, ListMcpToolsResult } from '../../common/mcp';
import { currentActivityControl } from '../activity-control';
import { callMcpTool } from './call-mcp-tool';
import { listMcpTools } from './list-mcp-tools';
import { resolveMcpActivityOptions } from './mcp-options';
import type { McpActivityOptions } from './mcp-options';

export type { McpActivityOptions } from './mcp-options';

/** The MCP Activities, as the worker registers them and the Workflow proxies them (`import type`). */
export interface McpActivities {
  listMcpTools: (input: ListMcpToolsInput) => Promise<ListMcpToolsResult>;
  callMcpTool: (input: CallMcpToolInput) => Promise<CallMcpToolResult>;
}

/**
 * Builds the MCP Activities around an injected credential resolver. Each call connects to the server over
 * streamable HTTP with the bearer token resolved inside the Activity, does its one thing and disconnects (no
 * connection is kept between calls, so a rotated credential or a restarted server is picked up at once). They
 * heartbeat while they wait and honour the Activity's cancellation; called outside an Activity they simply run.
 */
export function createMcpActivities(options: McpActivityOptions): McpActivities {
  const resolved = resolveMcpActivityOptions(options);
  return {
    listMcpTools: (input) => listMcpTools(input, resolved, currentActivityControl()),
    callMcpTool: (input) => callMcpTool(input, resolved, currentActivityControl()),
  };
}
