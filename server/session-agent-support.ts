import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { invalidField } from './api-error';

/**
 * Refuses, with a 400 naming the field, an agent whose tools a session cannot honour: the `auto` permission policy
 * (Keel has no classifier to judge a call, and quietly asking or allowing instead would change what the agent's
 * author chose). `web_search` is not refused: without a search provider it is simply not offered to the model.
 */
export function requireSupportedAgentTools(agent: BetaManagedAgentsAgent, field: string): void {
  for (const tool of agent.tools) {
    if (tool.type === 'custom') continue;
    const toolset = tool.type === 'mcp_toolset' ? `mcp_toolset ${tool.mcp_server_name}` : tool.type;
    if (tool.default_config.enabled && tool.default_config.permission_policy.type === 'auto') {
      throw invalidField(field, `agent ${agent.id} sets permission_policy auto on ${toolset}; ${AUTO_REFUSAL}`);
    }
    for (const config of tool.configs) {
      if (!config.enabled) continue;
      if (config.permission_policy.type === 'auto') {
        throw invalidField(field, `agent ${agent.id} sets permission_policy auto on ${config.name}; ${AUTO_REFUSAL}`);
      }
    }
  }
}

const AUTO_REFUSAL = 'Keel evaluates always_allow and always_ask only';
