import { SANDBOX_TOOL_NAMES } from '../common/agent';
import type { AgentSnapshot } from '../common/agent';
import type { StoredAgent } from './store/control-plane-store';

/** The output budget of a model call, since the hosted agent object has no field for it. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * The `AgentSnapshot` a session runs for one stored agent version: its model id, system prompt, and the sandbox tools
 * of its `agent_toolset_20260401` that are enabled (a per-tool `enabled` wins over the toolset's default). Tools Keel
 * does not run yet (`web_fetch`, `web_search`, MCP toolsets, custom tools) are left out.
 */
export function toAgentSnapshot(agent: StoredAgent): AgentSnapshot {
  const { definition } = agent;
  const toolset = definition.tools.find((tool) => tool.type === 'agent_toolset_20260401');
  const tools =
    toolset === undefined
      ? []
      : SANDBOX_TOOL_NAMES.filter(
          (name) => toolset.configs.find((config) => config.name === name)?.enabled ?? toolset.default_config.enabled,
        );
  return {
    id: agent.id,
    version: agent.version,
    name: definition.name,
    model: definition.model.id,
    system: definition.system,
    maxTokens: DEFAULT_MAX_TOKENS,
    tools: [...tools],
  };
}
