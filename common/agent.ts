import type { ThinkingSettings } from './conversation';

/**
 * The agent a session runs, snapshotted into the Workflow input when the session starts, so later changes to an
 * agent never change a running session.
 */
export interface AgentSnapshot {
  /** `agent_…` id when the agent comes from the control plane; `null` for an inline agent. */
  id: string | null;
  version: number;
  name: string;
  model: string;
  system: string | null;
  maxTokens: number;
  /** Names of the enabled built-in tools offered to the model: sandbox tools and `web_fetch`. */
  tools: string[];
  /** Permission policy of each enabled built-in tool; a tool missing here is `always_allow` (older snapshots). */
  permissions?: Record<string, ToolPermission>;
  /** The `web_fetch` tool's domain filters, when it is enabled. */
  webFetch?: DomainFilters;
  /** The `web_search` tool's domain filters, when it is enabled (it is offered only by a worker with a provider). */
  webSearch?: DomainFilters;
  /** Tools the client runs: the session asks for their results with `requires_action`. */
  customTools?: CustomToolSnapshot[];
  /** MCP servers with their toolset settings (one entry per `mcp_toolset`). */
  mcpToolsets?: McpToolsetSnapshot[];
  /** Extended thinking, from the agent's model config (`effort`); absent means no thinking. */
  thinking?: ThinkingSettings;
}

/** The permission policies Keel evaluates: `auto` asks a classifier model call (`evaluatePermission`) per call. */
export type ToolPermission = 'always_allow' | 'always_ask' | 'auto';

/** The domain filters of `web_fetch` and `web_search`. */
export interface DomainFilters {
  allowedDomains?: string[];
  blockedDomains?: string[];
}

/** A `custom` tool of the agent, offered to the model as it was defined. */
export interface CustomToolSnapshot {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** An `mcp_toolset` with its server: which of the server's tools are offered, and their permission. */
export interface McpToolsetSnapshot {
  server: { name: string; url: string };
  defaultEnabled: boolean;
  defaultPermission: ToolPermission;
  configs: Array<{ name: string; enabled: boolean; permission: ToolPermission }>;
}

/** The name of the built-in tool that fetches a URL from the worker, outside the sandbox. */
export const WEB_FETCH_TOOL_NAME = 'web_fetch';

/** The name of the built-in tool that searches the web through the worker's search provider. */
export const WEB_SEARCH_TOOL_NAME = 'web_search';

/** The built-in toolset that runs inside the sandbox, named as the SDK's `agent_toolset_20260401` names it. */
export const SANDBOX_TOOL_NAMES = ['bash', 'read', 'write', 'edit', 'glob', 'grep'] as const;

/** One of the built-in sandbox tools. */
export type SandboxToolName = (typeof SANDBOX_TOOL_NAMES)[number];

/** Whether `name` is a built-in sandbox tool. */
export function isSandboxToolName(name: string): name is SandboxToolName {
  return (SANDBOX_TOOL_NAMES as readonly string[]).includes(name);
}
