import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type {
  BetaManagedAgentsMultiagent,
  BetaManagedAgentsSessionMultiagent,
} from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { AgentSnapshot } from '../../common/agent';
import type { CallableAgent } from '../../common/multiagent';
import type { AgentService } from '../agents/agent-service';
import { rosterOf } from '../agents/agent-roster';
import { toThreadAgentView } from '../agents/thread-agent-view';

/**
 * The agents a multiagent session may run as child threads, from the coordinator version's stored roster (a
 * `coordinator`'s `agents`, or a `multiagent_20261001`'s `subagents.predefined_agents`): each agent at the version the
 * roster names (409 when it was archived since), and the `self` entry (the coordinator's own id) as the session's
 * coordinator, overrides included, since session overrides apply to the coordinator and its copies. A `self` whose
 * overrides gave it a tool that needs a client is refused (400 naming `agent`). Empty when the agent runs no child
 * threads.
 */
export async function callableAgentsOf(
  coordinator: { snapshot: AgentSnapshot; view: BetaManagedAgentsAgent },
  agents: AgentService,
): Promise<CallableAgent[]> {
  const roster = rosterOf(coordinator.view.multiagent);
  if (roster === null) return [];
  const callable: CallableAgent[] = [];
  for (const [index, entry] of roster.entries.entries()) {
    if (entry.type !== 'agent') continue;
    if (entry.id === coordinator.view.id) {
      callable.push({
        name: coordinator.view.name,
        snapshot: coordinator.snapshot,
        view: toThreadAgentView(coordinator.view),
      });
      continue;
    }
    const member = await agents.forRoster(entry, `agent.${roster.field}[${index}]`);
    callable.push({ name: member.view.name, snapshot: member.snapshot, view: toThreadAgentView(member.view) });
  }
  return callable;
}

/**
 * An agent's `multiagent` as the session object shows it (`BetaManagedAgentsSessionMultiagent`): each roster agent's
 * full definition (`callable`'s views) in place of its reference, the rest of a `multiagent_20261001` as stored.
 * `null` for a coordinator with no callable agents, as before the session resolved them.
 */
export function sessionMultiagentOf(
  multiagent: BetaManagedAgentsMultiagent | null,
  callable: CallableAgent[],
): BetaManagedAgentsSessionMultiagent | null {
  if (multiagent === null) return null;
  const views = callable.map((agent) => agent.view);
  if (multiagent.type === 'coordinator') return views.length === 0 ? null : { type: 'coordinator', agents: views };
  const { subagents, workflows } = multiagent;
  return {
    type: 'multiagent_20261001',
    advisor: multiagent.advisor,
    subagents: subagents.type === 'enabled' ? { ...subagents, predefined_agents: views } : subagents,
    // Keel stores no enabled workflows (it refuses them); were one there, its agents are not resolved for a session.
    workflows: workflows.type === 'enabled' ? { ...workflows, predefined_agents: [] } : workflows,
  };
}
