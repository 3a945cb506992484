import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { isSandboxToolName } from '../common/agent';
import { invalidField } from './api-error';

/**
 * Refuses, with a 400 naming the field, an agent whose tools a session cannot honour yet: a tool that must ask before
 * it runs (`always_ask`, or `auto`), custom tools and MCP toolsets. Running them without the confirmation their
 * policy demands would be worse than refusing.
 */
export function requireSupportedAgentTools(agent: BetaManagedAgentsAgent, field: string): void {
  for (const tool of agent.tools) {
    if (tool.type !== 'agent_toolset_20260401') {
      throw invalidField(
        field,
        `agent ${agent.id} has a ${tool.type} tool; Keel sessions do not run custom tools or MCP toolsets yet`,
      );
    }
    for (const name of ['bash', 'read', 'write', 'edit', 'glob', 'grep']) {
      const config = tool.configs.find((candidate) => candidate.name === name);
      const enabled = config?.enabled ?? tool.default_config.enabled;
      const policy = config?.permission_policy ?? tool.default_config.permission_policy;
      if (enabled && isSandboxToolName(name) && policy.type !== 'always_allow') {
        throw invalidField(
          field,
          `agent ${agent.id} sets permission_policy ${policy.type} on ${name}; Keel sessions do not ask for tool confirmations yet`,
        );
      }
    }
  }
}
