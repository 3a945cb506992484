import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { AgentSnapshot } from '../../common/agent';
import type { CallableAgent } from '../../common/multiagent';
import { invalidField } from '../api-error';
import type { AgentService } from '../agents/agent-service';
import { clientBoundTool } from '../agents/agent-roster';
import { toThreadAgentView } from '../agents/thread-agent-view';

/**
 * The agents a coordinator session may run as child threads, from the coordinator version's stored roster: each agent
 * at the version the roster names (409 when it was archived since), and the `self` entry (the coordinator's own id) as
 * the session's coordinator, overrides included, since session overrides apply to the coordinator and its copies. A
 * `self` whose overrides gave it a tool that needs a client is refused (400 naming `agent`). Empty when the agent
 * coordinates no roster.
 */
export async function callableAgentsOf(
  coordinator: { snapshot: AgentSnapshot; view: BetaManagedAgentsAgent },
  agents: AgentService,
): Promise<CallableAgent[]> {
  const roster = coordinator.view.multiagent;
  if (roster === null || roster.type !== 'coordinator') return [];
  const callable: CallableAgent[] = [];
  for (const [index, entry] of roster.agents.entries()) {
    if (entry.type !== 'agent') continue;
    if (entry.id === coordinator.view.id) {
      const problem = clientBoundTool(coordinator.view);
      if (problem !== null)
        throw invalidField('agent', `the coordinator, listed in its own roster as self, ${problem}`);
      callable.push({
        name: coordinator.view.name,
        snapshot: coordinator.snapshot,
        view: toThreadAgentView(coordinator.view),
      });
      continue;
    }
    const member = await agents.forRoster(entry, `agent.multiagent.agents[${index}]`);
    callable.push({ name: member.view.name, snapshot: member.snapshot, view: toThreadAgentView(member.view) });
  }
  return callable;
}
