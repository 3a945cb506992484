import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { StoredAgent } from '../store/control-plane-store';

/** The agent object of the hosted API (`BetaManagedAgentsAgent`) for one stored version. */
export function toAgentView(agent: StoredAgent): BetaManagedAgentsAgent {
  return {
    id: agent.id,
    type: 'agent',
    version: agent.version,
    ...agent.definition,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
    archived_at: agent.archivedAt,
  };
}
