import { SANDBOX_TOOL_NAMES, WEB_FETCH_TOOL_NAME, WEB_SEARCH_TOOL_NAME } from '../../common/agent';
import type { AgentSnapshot, DomainFilters, McpToolsetSnapshot, ToolPermission } from '../../common/agent';
import type { BetaManagedAgentsModelConfig } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { ThinkingSettings } from '../../common/conversation';
import type { StoredAgent } from '../store/control-plane-store';

/** The output budget of a model call, since the hosted agent object has no field for it. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * The built-in tools Keel runs: the sandbox tools, and `web_fetch` and `web_search` in the worker (`web_search` is
 * offered to the model only by a worker configured with a search provider).
 */
const RUN_BUILT_IN_TOOLS: readonly string[] = [...SANDBOX_TOOL_NAMES, WEB_FETCH_TOOL_NAME, WEB_SEARCH_TOOL_NAME];

/**
 * The `AgentSnapshot` a session runs for one stored agent version: its model id, system prompt, the built-in tools of
 * its `agent_toolset_20260401` that are enabled (a per-tool `enabled` wins over the toolset's default) with their
 * permission policies, its custom tools, and its MCP toolsets with their servers. The stored definition is already
 * resolved (every config carries `enabled` and `permission_policy`).
 */
export function toAgentSnapshot(agent: StoredAgent): AgentSnapshot {
  const { definition } = agent;
  const tools: string[] = [];
  const permissions: Record<string, ToolPermission> = {};
  const filters: Record<string, DomainFilters> = {};
  const customTools: NonNullable<AgentSnapshot['customTools']> = [];
  const mcpToolsets: McpToolsetSnapshot[] = [];
  for (const tool of definition.tools) {
    if (tool.type === 'custom') {
      customTools.push({ name: tool.name, description: tool.description, inputSchema: { ...tool.input_schema } });
    } else if (tool.type === 'mcp_toolset') {
      const server = definition.mcp_servers.find((candidate) => candidate.name === tool.mcp_server_name);
      if (server === undefined) continue;
      mcpToolsets.push({
        server: { name: server.name, url: server.url },
        defaultEnabled: tool.default_config.enabled,
        defaultPermission: asPermission(tool.default_config.permission_policy.type),
        configs: tool.configs.map((config) => ({
          name: config.name,
          enabled: config.enabled,
          permission: asPermission(config.permission_policy.type),
        })),
      });
    } else {
      for (const name of RUN_BUILT_IN_TOOLS) {
        const config = tool.configs.find((candidate) => candidate.name === name);
        if (!(config?.enabled ?? tool.default_config.enabled)) continue;
        tools.push(name);
        permissions[name] = asPermission((config?.permission_policy ?? tool.default_config.permission_policy).type);
        if (name === WEB_FETCH_TOOL_NAME || name === WEB_SEARCH_TOOL_NAME) {
          const domains = (config ?? {}) as { allowed_domains?: string[] | null; blocked_domains?: string[] | null };
          filters[name] = {
            ...(domains.allowed_domains ? { allowedDomains: [...domains.allowed_domains] } : {}),
            ...(domains.blocked_domains ? { blockedDomains: [...domains.blocked_domains] } : {}),
          };
        }
      }
    }
  }
  return {
    id: agent.id,
    version: agent.version,
    name: definition.name,
    model: definition.model.id,
    system: definition.system,
    maxTokens: DEFAULT_MAX_TOKENS,
    tools,
    permissions,
    ...(filters[WEB_FETCH_TOOL_NAME] === undefined ? {} : { webFetch: filters[WEB_FETCH_TOOL_NAME] }),
    ...(filters[WEB_SEARCH_TOOL_NAME] === undefined ? {} : { webSearch: filters[WEB_SEARCH_TOOL_NAME] }),
    customTools,
    mcpToolsets,
    ...thinkingOf(definition.model),
  };
}

/**
 * Extended thinking from the agent's model config: an `effort` turns on adaptive thinking at that effort (the model
 * decides how much to think); without one the agent does not think. The hosted API resolves a per-model default
 * effort; Keel leaves thinking off unless it is asked for.
 */
function thinkingOf(model: BetaManagedAgentsModelConfig): { thinking?: ThinkingSettings } {
  const effort = model.effort?.type;
  return effort === undefined ? {} : { thinking: { type: 'adaptive', effort } };
}

/** A stored policy as the Workflow evaluates it; anything unknown keeps a person in the loop. */
function asPermission(policy: string): ToolPermission {
  return policy === 'always_allow' || policy === 'auto' ? policy : 'always_ask';
}
