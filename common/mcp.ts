/** An MCP server an agent names in `mcp_servers` (`type: 'url'`, streamable HTTP). */
export interface McpServerRef {
  name: string;
  url: string;
}

/** Why an MCP server could not be used, as the SDK's `session.error` types name it. */
export interface McpFailure {
  type: 'mcp_connection_failed_error' | 'mcp_authentication_failed_error';
  message: string;
}

/** A tool an MCP server offers, as `tools/list` describes it. */
export interface McpToolDescriptor {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * Input of `listMcpTools` and the start of `callMcpTool`. `vaultIds` are references only: the Activity resolves the
 * credential whose `mcp_server_url` matches `server.url`, so no secret is ever in a Workflow's history.
 */
export interface McpServerCallContext {
  sessionId: string;
  server: McpServerRef;
  vaultIds: string[];
  /** The session's workspace, whose vaults alone `vaultIds` may name; absent in runs from before workspaces. */
  workspaceId?: string;
}

export type ListMcpToolsInput = McpServerCallContext;

export type ListMcpToolsResult = { ok: true; tools: McpToolDescriptor[] } | { ok: false; error: McpFailure };

export interface CallMcpToolInput extends McpServerCallContext {
  toolName: string;
  input: Record<string, unknown>;
}

/** A tool call's result; a tool that ran and reported an error is `ok: true, isError: true`. */
export type CallMcpToolResult =
  { ok: true; content: Array<{ type: 'text'; text: string }>; isError: boolean } | { ok: false; error: McpFailure };
