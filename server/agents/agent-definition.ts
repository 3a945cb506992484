import type {
  BetaManagedAgentsAgentToolConfig,
  BetaManagedAgentsAgentToolsetDefaultConfig,
  BetaManagedAgentsModelConfig,
  BetaManagedAgentsWebFetchURLSources,
  BetaManagedAgentsWebFetchURLSourceToolFilter,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { z } from 'zod';
import { invalidField } from '../api-error';
import { MAX_METADATA_KEYS } from './agent-request-schemas';
import type {
  CreateAgentBody,
  executionIdentityParams,
  mcpServersParams,
  modelParams,
  skillsParams,
  UpdateAgentBody,
} from './agent-request-schemas';
import type { AgentToolsParams } from './agent-tool-schemas';
import type { AgentDefinition } from '../store/control-plane-store';

type AgentTool = AgentDefinition['tools'][number];
type ToolsetParams = Extract<AgentToolsParams[number], { type: 'agent_toolset_20260401' }>;
type BuiltInConfigParams = NonNullable<ToolsetParams['configs']>[number];
type McpToolsetParams = Extract<AgentToolsParams[number], { type: 'mcp_toolset' }>;
type UrlSourcesParams = NonNullable<Extract<BuiltInConfigParams, { name: 'web_fetch' }>['url_sources']>;
type ToolFilterParams = NonNullable<UrlSourcesParams['client_tool_results']>;

/** The default permission of the built-in toolset (it runs in the sandbox) and of MCP tools (they reach outside). */
const DEFAULT_POLICY = {
  agentToolset: { type: 'always_allow' },
  mcpToolset: { type: 'always_ask' },
} as const;

/**
 * The definition of a new agent from a validated create body, in the hosted API's resolved shape; `multiagent` is
 * `null`, for the caller to put the resolved roster in its place.
 */
export function newAgentDefinition(body: CreateAgentBody): AgentDefinition {
  return checked({
    name: body.name,
    description: body.description || null,
    model: resolveModel(body.model),
    system: body.system || null,
    tools: resolveTools(body.tools ?? []),
    mcp_servers: resolveMcpServers(body.mcp_servers ?? []),
    skills: resolveSkills(body.skills ?? []),
    metadata: sortedMetadata(body.metadata ?? {}),
    execution_identity: resolveExecutionIdentity(body.execution_identity),
    // A roster needs the store to resolve: the agent service resolves it and puts it in place.
    multiagent: null,
  });
}

/**
 * `current` with a validated update body applied: omitted fields keep their value, `metadata` is a patch; a sent
 * `multiagent` comes out `null`, for the caller to put the resolved roster in its place.
 */
export function updatedAgentDefinition(current: AgentDefinition, body: UpdateAgentBody): AgentDefinition {
  const metadata: Record<string, string> = { ...current.metadata };
  for (const [key, value] of Object.entries(body.metadata ?? {})) {
    if (value === null) delete metadata[key];
    else metadata[key] = value;
  }
  if (Object.keys(metadata).length > MAX_METADATA_KEYS) {
    throw invalidField('metadata', `an agent has at most ${MAX_METADATA_KEYS} metadata keys`);
  }
  return checked({
    name: body.name ?? current.name,
    description: body.description === undefined ? current.description : body.description || null,
    model: body.model === undefined ? current.model : resolveModel(body.model),
    system: body.system === undefined ? current.system : body.system || null,
    tools: body.tools === undefined ? current.tools : resolveTools(body.tools ?? []),
    mcp_servers: body.mcp_servers === undefined ? current.mcp_servers : resolveMcpServers(body.mcp_servers ?? []),
    skills: body.skills === undefined ? current.skills : resolveSkills(body.skills ?? []),
    metadata: sortedMetadata(metadata),
    execution_identity:
      body.execution_identity === undefined
        ? current.execution_identity
        : resolveExecutionIdentity(body.execution_identity),
    // A new roster needs the store to resolve: the agent service resolves it and puts it in place.
    multiagent: body.multiagent === undefined ? current.multiagent : null,
  });
}

/** Whether two definitions say the same thing (an update that changes nothing makes no new version). */
export function sameDefinition(left: AgentDefinition, right: AgentDefinition): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/** Checks what only the whole definition shows: every MCP toolset names a server, every server is used. */
function checked(definition: AgentDefinition): AgentDefinition {
  const serverNames = new Set(definition.mcp_servers.map((server) => server.name));
  const usedNames = new Set<string>();
  definition.tools.forEach((tool, index) => {
    if (tool.type !== 'mcp_toolset') return;
    if (!serverNames.has(tool.mcp_server_name)) {
      throw invalidField(
        `tools[${index}].mcp_server_name`,
        `no MCP server named "${tool.mcp_server_name}" in mcp_servers`,
      );
    }
    usedNames.add(tool.mcp_server_name);
  });
  definition.mcp_servers.forEach((server, index) => {
    if (!usedNames.has(server.name)) {
      throw invalidField(
        `mcp_servers[${index}]`,
        `MCP server "${server.name}" is not used by any mcp_toolset in tools`,
      );
    }
  });
  return definition;
}

function resolveModel(model: z.infer<typeof modelParams>): BetaManagedAgentsModelConfig {
  if (typeof model === 'string') return { id: model };
  const effort = typeof model.effort === 'string' ? { type: model.effort } : model.effort;
  return {
    id: model.id,
    ...(effort ? { effort } : {}),
    ...(model.inference_geo ? { inference_geo: model.inference_geo } : {}),
    ...(model.speed ? { speed: model.speed } : {}),
  };
}

function resolveTools(tools: AgentToolsParams): AgentTool[] {
  return tools.map((tool): AgentTool => {
    if (tool.type === 'custom') return { ...tool, type: 'custom' };
    if (tool.type === 'mcp_toolset') return resolveMcpToolset(tool);
    const defaults: BetaManagedAgentsAgentToolsetDefaultConfig = {
      enabled: tool.default_config?.enabled ?? true,
      permission_policy: tool.default_config?.permission_policy ?? DEFAULT_POLICY.agentToolset,
    };
    return {
      type: 'agent_toolset_20260401',
      default_config: defaults,
      configs: (tool.configs ?? []).map((config) => resolveBuiltInConfig(config, defaults)),
    };
  });
}

function resolveBuiltInConfig(
  config: BuiltInConfigParams,
  defaults: BetaManagedAgentsAgentToolsetDefaultConfig,
): BetaManagedAgentsAgentToolConfig {
  const common = {
    enabled: config.enabled ?? defaults.enabled,
    permission_policy: config.permission_policy ?? defaults.permission_policy,
  };
  const domains = (value: { allowed_domains?: string[]; blocked_domains?: string[] }) => ({
    ...(value.allowed_domains ? { allowed_domains: value.allowed_domains } : {}),
    ...(value.blocked_domains ? { blocked_domains: value.blocked_domains } : {}),
  });
  switch (config.name) {
    case 'web_fetch':
      return {
        name: 'web_fetch',
        type: 'web_fetch',
        ...common,
        url_sources: config.url_sources ? resolveUrlSources(config.url_sources) : null,
        ...domains(config),
        ...(config.max_content_tokens ? { max_content_tokens: config.max_content_tokens } : {}),
      };
    case 'web_search':
      return {
        name: 'web_search',
        type: 'web_search',
        ...common,
        ...domains(config),
        ...(config.user_location ? { user_location: config.user_location } : {}),
      };
    default:
      // The six sandbox tools share one shape; `type` repeats the name, as the SDK's resolved configs have it.
      return { name: config.name, type: config.name, ...common } as BetaManagedAgentsAgentToolConfig;
  }
}

function resolveUrlSources(sources: UrlSourcesParams): BetaManagedAgentsWebFetchURLSources {
  const user = sources.user_input;
  return {
    client_tool_results: resolveToolFilter(sources.client_tool_results),
    server_tool_results: resolveToolFilter(sources.server_tool_results),
    user_input: user === null || user === undefined ? null : typeof user === 'string' ? { type: user } : user,
  };
}

function resolveToolFilter(
  filter: ToolFilterParams | null | undefined,
): BetaManagedAgentsWebFetchURLSourceToolFilter | null {
  if (filter === null || filter === undefined) return null;
  return typeof filter === 'string' ? { type: filter } : filter;
}

function resolveMcpToolset(tool: McpToolsetParams): AgentTool {
  const defaults = {
    enabled: tool.default_config?.enabled ?? true,
    permission_policy: tool.default_config?.permission_policy ?? DEFAULT_POLICY.mcpToolset,
  };
  return {
    type: 'mcp_toolset',
    mcp_server_name: tool.mcp_server_name,
    default_config: defaults,
    configs: (tool.configs ?? []).map((config) => ({
      name: config.name,
      enabled: config.enabled ?? defaults.enabled,
      permission_policy: config.permission_policy ?? defaults.permission_policy,
    })),
  };
}

function resolveMcpServers(servers: z.infer<typeof mcpServersParams>): AgentDefinition['mcp_servers'] {
  return servers.map((server) => ({ type: 'url', name: server.name, url: server.url }));
}

function resolveSkills(skills: z.infer<typeof skillsParams>): AgentDefinition['skills'] {
  return skills.map((skill) => ({ type: skill.type, skill_id: skill.skill_id, version: skill.version ?? 'latest' }));
}

function resolveExecutionIdentity(
  identity: z.infer<typeof executionIdentityParams> | null | undefined,
): AgentDefinition['execution_identity'] {
  return identity ?? { type: 'service_account' };
}

function sortedMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).sort(([left], [right]) => (left < right ? -1 : 1)));
}
