import type { AutoVerdict } from '../common/permission';
import { isSandboxToolName, WEB_FETCH_TOOL_NAME, WEB_SEARCH_TOOL_NAME } from '../common/agent';
import type { AgentSnapshot, ToolPermission } from '../common/agent';
import type { McpServerRef, McpToolDescriptor } from '../common/mcp';
import type { Tool } from '../common/model';
import { isHostAllowed } from '../common/network-policy';
import type { SandboxNetworking } from '../common/sandbox';
import { threadToolDefinitions } from './thread-tools';
import type { ThreadToolName } from './thread-tools';

/** Where a tool call the model makes goes, and whether a person must confirm it first. */
export type ToolRoute =
  | { kind: 'sandbox'; name: string; permission: ToolPermission }
  | { kind: 'web_fetch'; permission: ToolPermission }
  | { kind: 'web_search'; permission: ToolPermission }
  | { kind: 'custom'; name: string }
  | { kind: 'mcp'; server: McpServerRef; toolName: string; permission: ToolPermission }
  | { kind: 'thread'; tool: ThreadToolName };

/** The tools offered to the model in one step, and the route of each by the name the model uses. */
export interface ToolOffer {
  /** Built-in tools, by name (the model Activity holds their definitions). */
  builtInNames: string[];
  /** Custom and MCP tools with their whole definitions. */
  extraTools: Tool[];
  routes: Map<string, ToolRoute>;
}

const MODEL_TOOL_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The tools of `agent` for the model: its enabled built-in tools, its custom tools, and the enabled tools of each MCP
 * server that listed its tools (`mcpTools`, by server name). An MCP tool is named `mcp__<server>__<tool>` for the
 * model (characters the Messages API refuses become `_`), so two servers' tools never collide with each other or
 * with built-in and custom tools; events carry the server's own tool name. A coordinator (`rosterNames`, its callable
 * agents' names) gets the delegation tools too.
 */
export function toolOffer(
  agent: AgentSnapshot,
  mcpTools: ReadonlyMap<string, McpToolDescriptor[]>,
  rosterNames?: string[],
): ToolOffer {
  const routes = new Map<string, ToolRoute>();
  const builtInNames: string[] = [];
  for (const name of agent.tools) {
    const permission = agent.permissions?.[name] ?? 'always_allow';
    if (isSandboxToolName(name)) routes.set(name, { kind: 'sandbox', name, permission });
    else if (name === WEB_FETCH_TOOL_NAME) routes.set(name, { kind: 'web_fetch', permission });
    else if (name === WEB_SEARCH_TOOL_NAME) routes.set(name, { kind: 'web_search', permission });
    else continue;
    builtInNames.push(name);
  }
  const extraTools: Tool[] = [];
  for (const tool of agent.customTools ?? []) {
    routes.set(tool.name, { kind: 'custom', name: tool.name });
    extraTools.push({
      name: tool.name,
      description: tool.description,
      input_schema: tool.inputSchema as Tool['input_schema'],
    });
  }
  for (const toolset of agent.mcpToolsets ?? []) {
    for (const descriptor of mcpTools.get(toolset.server.name) ?? []) {
      const config = toolset.configs.find((candidate) => candidate.name === descriptor.name);
      if (!(config?.enabled ?? toolset.defaultEnabled)) continue;
      const modelName = mcpModelToolName(toolset.server.name, descriptor.name);
      if (routes.has(modelName)) continue;
      routes.set(modelName, {
        kind: 'mcp',
        server: toolset.server,
        toolName: descriptor.name,
        permission: config?.permission ?? toolset.defaultPermission,
      });
      extraTools.push({
        name: modelName,
        description: descriptor.description,
        input_schema: { type: 'object', ...descriptor.inputSchema },
      });
    }
  }
  if (rosterNames !== undefined && rosterNames.length > 0) {
    for (const tool of threadToolDefinitions(rosterNames)) {
      if (routes.has(tool.name)) continue;
      routes.set(tool.name, { kind: 'thread', tool: tool.name as ThreadToolName });
      extraTools.push(tool);
    }
  }
  return { builtInNames, extraTools, routes };
}

/** The name the model sees for an MCP server's tool. */
export function mcpModelToolName(serverName: string, toolName: string): string {
  const name = `mcp__${serverName}__${toolName}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128);
  return MODEL_TOOL_NAME.test(name) ? name : 'mcp_tool';
}

/**
 * Whether a call on `route` waits for the client: a custom tool's result, or a confirmation (`always_ask`, or
 * `auto` when its judge answered `ask`).
 */
export function waitsForClient(route: ToolRoute | undefined, verdict?: AutoVerdict): boolean {
  if (route === undefined || route.kind === 'thread') return false;
  if (route.kind === 'custom' || route.permission === 'always_ask') return true;
  return route.permission === 'auto' && verdict?.type !== 'allow' && verdict?.type !== 'deny';
}

/**
 * Why the worker may not connect to an MCP server under the session environment's networking, or `null` when it may:
 * `unrestricted` reaches every server; `limited` only with `allow_mcp_servers` or the server's host in
 * `allowed_hosts`.
 */
export function mcpServerAllowed(networking: SandboxNetworking, url: string): string | null {
  if (networking.type === 'unrestricted' || networking.allowMcpServers) return null;
  // Parsed by hand: the Workflow sandbox is not guaranteed to provide `URL`.
  // A backslash ends the authority, as WHATWG URL parsing (what the Activity connects with) treats it for http(s).
  const match = /^(https?):\/\/(?:[^@/?#\\]*@)?(\[[^\]]+\]|[^:/?#\\]+)(?::(\d+))?/i.exec(url);
  if (match === null) return `The MCP server URL ${url} is not an http(s) URL.`;
  const [, scheme = 'http', host = '', portText] = match;
  const port = portText === undefined ? (scheme.toLowerCase() === 'https' ? 443 : 80) : Number(portText);
  if (isHostAllowed(networking, host.replace(/^\[|\]$/g, ''), port)) return null;
  return `The environment's networking does not allow ${host}: set networking.allow_mcp_servers, or list the host in allowed_hosts.`;
}
