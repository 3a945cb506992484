import type {
  BetaManagedAgentsMultiagent20261001,
  BetaManagedAgentsMultiagentAdvisor,
  BetaManagedAgentsMultiagentInlineAgents,
} from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsMultiagent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { ApiError } from '../api-error';
import type { AgentDefinition } from '../store/control-plane-store';
import type {
  AgentPoolParams,
  Multiagent20261001Params,
  MultiagentParams,
  RosterEntryParams,
} from './agent-request-schemas';
import { completeRoster, resolveRoster, rosterParamsOf } from './agent-roster';
import type { AgentLookup, PendingRoster } from './agent-roster';

/**
 * An agent's `multiagent` resolved and checked as far as the store allows; `completeMultiagent` finishes it once the
 * version being written is known (its `self` entry points at that version).
 */
export type PendingMultiagent =
  { type: 'coordinator'; roster: PendingRoster } | { type: 'multiagent_20261001'; subagents: PendingRoster | null };

/** `subagents` or `workflows` of a `multiagent_20261001` after the merge, its lists still as parameters. */
type MergedPool = { type: 'disabled' } | EnabledPool;

/** An enabled `subagents` or `workflows` after the merge. */
interface EnabledPool {
  type: 'enabled';
  inline_agents: BetaManagedAgentsMultiagentInlineAgents;
  predefined_agents: RosterEntryParams[];
  /** Whether `predefined_agents` is the stored list, kept by an update that did not send one. */
  stored: boolean;
}

/** What `multiagent_20261001` defaults to, member by member (the SDK's documented defaults). */
const DEFAULT_ADVISOR: BetaManagedAgentsMultiagentAdvisor = { type: 'disabled' };
const DEFAULT_POOL: EnabledPool = {
  type: 'enabled',
  inline_agents: { type: 'enabled' },
  predefined_agents: [],
  stored: false,
};

/** What to send to turn a member off, as the 400s say it. */
const SEND_DISABLED = 'send {"type": "disabled"}';

/**
 * Resolves a sent `multiagent` for the agent `ownerId`. A `coordinator` roster is resolved as is. A
 * `multiagent_20261001` is merged into `stored` when that is a `multiagent_20261001` too (an update; level by level:
 * an omitted key keeps its stored value, null takes its default, an object of another type replaces the stored one,
 * a sent list replaces the stored list), else onto the defaults; the result must be one Keel runs (a primary thread
 * that starts child threads running saved agents, or no multiagent at all), else a 400 names each member Keel does
 * not serve and what to send instead. `requireActive` refuses archived agents in the lists sent (not in a stored list
 * an update keeps).
 */
export async function resolveMultiagent(
  params: MultiagentParams,
  stored: BetaManagedAgentsMultiagent | null,
  ownerId: string,
  lookup: AgentLookup,
  options: { requireActive: boolean },
): Promise<PendingMultiagent> {
  if (params.type === 'coordinator') {
    const roster = await resolveRoster(params.agents, ownerId, lookup, {
      requireActive: options.requireActive,
      field: 'multiagent.agents',
    });
    return { type: 'coordinator', roster };
  }
  const base = stored?.type === 'multiagent_20261001' ? stored : null;
  const advisor = mergeAdvisor(params.advisor, base?.advisor);
  const subagents = mergePool(params.subagents, base === null ? undefined : poolParamsOf(base.subagents, ownerId));
  const workflows = mergePool(params.workflows, base === null ? undefined : poolParamsOf(base.workflows, ownerId));
  requireServed(advisor, subagents, workflows);
  if (subagents.type === 'disabled') return { type: 'multiagent_20261001', subagents: null };
  const roster = await resolveRoster(subagents.predefined_agents, ownerId, lookup, {
    requireActive: options.requireActive && !subagents.stored,
    field: 'multiagent.subagents.predefined_agents',
  });
  return { type: 'multiagent_20261001', subagents: roster };
}

/** The stored `multiagent` of `owner` (the version being written), in the resolved shape the agent object shows. */
export function completeMultiagent(
  pending: PendingMultiagent,
  owner: { id: string; version: number; definition: AgentDefinition },
): BetaManagedAgentsMultiagent {
  if (pending.type === 'coordinator') return { type: 'coordinator', agents: completeRoster(pending.roster, owner) };
  const configuration: BetaManagedAgentsMultiagent20261001 = {
    type: 'multiagent_20261001',
    advisor: { type: 'disabled' },
    subagents:
      pending.subagents === null
        ? { type: 'disabled' }
        : {
            type: 'enabled',
            inline_agents: { type: 'disabled' },
            predefined_agents: completeRoster(pending.subagents, owner),
          },
    workflows: { type: 'disabled' },
  };
  return configuration;
}

/**
 * The `multiagent` parameters that keep a stored configuration as it is (an update that does not send `multiagent`
 * checks it anew against the version being written: `self`'s tools, the names).
 */
export function keptMultiagentParams(stored: BetaManagedAgentsMultiagent, ownerId: string): MultiagentParams {
  return stored.type === 'coordinator'
    ? { type: 'coordinator', agents: rosterParamsOf(stored.agents, ownerId) }
    : { type: 'multiagent_20261001' };
}

function mergeAdvisor(
  sent: Multiagent20261001Params['advisor'],
  stored: BetaManagedAgentsMultiagentAdvisor | undefined,
): BetaManagedAgentsMultiagentAdvisor {
  if (sent === undefined) return stored ?? DEFAULT_ADVISOR;
  return sent ?? DEFAULT_ADVISOR;
}

function mergePool(sent: AgentPoolParams | null | undefined, stored: MergedPool | undefined): MergedPool {
  if (sent === undefined) return stored ?? DEFAULT_POOL;
  if (sent === null) return DEFAULT_POOL;
  if (sent.type === 'disabled') return { type: 'disabled' };
  // Of the stored type, the object merges into it; of another type, it replaces it and what it omits is the default.
  const base = stored?.type === 'enabled' ? stored : DEFAULT_POOL;
  const inline = sent.inline_agents === undefined ? base.inline_agents : (sent.inline_agents ?? { type: 'enabled' });
  return sent.predefined_agents === undefined
    ? { type: 'enabled', inline_agents: inline, predefined_agents: base.predefined_agents, stored: base.stored }
    : { type: 'enabled', inline_agents: inline, predefined_agents: sent.predefined_agents ?? [], stored: false };
}

/** A stored member as merge input: its references as parameters again (the owner's own as `self`). */
function poolParamsOf(
  stored: BetaManagedAgentsMultiagent20261001['subagents'] | BetaManagedAgentsMultiagent20261001['workflows'],
  ownerId: string,
): MergedPool {
  if (stored.type === 'disabled') return { type: 'disabled' };
  return {
    type: 'enabled',
    inline_agents: stored.inline_agents,
    predefined_agents: rosterParamsOf(stored.predefined_agents, ownerId),
    stored: true,
  };
}

/**
 * Refuses, with one 400 that names each member in turn, a merged configuration Keel does not run: it runs a primary
 * thread that may start child threads running saved agents (subagents with inline agents disabled and at least one
 * predefined agent), and no advisor or workflow runs.
 */
function requireServed(
  advisor: BetaManagedAgentsMultiagentAdvisor,
  subagents: MergedPool,
  workflows: MergedPool,
): void {
  const problems: string[] = [];
  if (advisor.type === 'enabled') {
    problems.push(`multiagent.advisor: Keel does not run an advisor yet; ${SEND_DISABLED}`);
  }
  if (subagents.type === 'enabled') {
    if (subagents.inline_agents.type === 'enabled') {
      problems.push(
        `multiagent.subagents.inline_agents: Keel does not run inline agents yet (inline_agents defaults to enabled); ` +
          `${SEND_DISABLED} and list saved agents in predefined_agents`,
      );
    }
    if (subagents.predefined_agents.length === 0) {
      problems.push(
        'multiagent.subagents.predefined_agents: Keel runs only predefined (saved) agents as subagents: list at ' +
          'least one (an agent id, {"type": "agent", "id", "version"} or {"type": "self"}), or send ' +
          'subagents {"type": "disabled"}',
      );
    }
  }
  if (workflows.type === 'enabled') {
    problems.push(
      `multiagent.workflows: Keel does not run workflow runs yet (workflows defaults to enabled); ${SEND_DISABLED}`,
    );
  }
  if (problems.length > 0) throw new ApiError('invalid_request_error', problems.join('; '));
}
