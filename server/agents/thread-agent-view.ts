import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsSessionThreadAgent,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';

/**
 * The agent a session thread runs, as the thread object shows it (`BetaManagedAgentsSessionThreadAgent`): the agent
 * version without its roster, metadata and times (the roster is read from the session's `agent`).
 */
export function toThreadAgentView(
  agent: Pick<
    BetaManagedAgentsAgent,
    | 'id'
    | 'version'
    | 'name'
    | 'description'
    | 'model'
    | 'system'
    | 'tools'
    | 'mcp_servers'
    | 'skills'
    | 'execution_identity'
  >,
): BetaManagedAgentsSessionThreadAgent {
  return {
    id: agent.id,
    type: 'agent',
    version: agent.version,
    name: agent.name,
    description: agent.description,
    model: agent.model,
    system: agent.system,
    tools: agent.tools,
    mcp_servers: agent.mcp_servers,
    skills: agent.skills,
    execution_identity: agent.execution_identity,
  };
}
