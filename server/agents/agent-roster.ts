import type { BetaManagedAgentsAgentReference } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsMultiagent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { ApiError, invalidField } from '../api-error';
import { isResourceId } from '../resource-ids';
import type { AgentDefinition, StoredAgent } from '../store/control-plane-store';
import type { RosterEntryParams } from './agent-request-schemas';

/** One roster entry resolved to a stored version (`self` has none yet: it is the version being written). */
type PendingEntry = { kind: 'self' } | { kind: 'agent'; agent: StoredAgent };

/**
 * A roster whose entries are resolved and checked as far as the store allows: what is left to check needs the
 * coordinator's definition and version as written (`completeRoster`). `field` is where the list sits in the request
 * (`multiagent.agents`, `multiagent.subagents.predefined_agents`), for the errors.
 */
export interface PendingRoster {
  field: string;
  entries: PendingEntry[];
}

/** Reads one version of an agent (the latest without `version`), or `null` when there is none. */
export type AgentLookup = (agentId: string, version?: number) => Promise<StoredAgent | null>;

/**
 * Resolves a roster (a coordinator's `agents`, or `predefined_agents`) for the agent `ownerId`: each entry names an
 * agent that exists (at the version named, else its latest), that does not coordinate a roster of its own (depth 1)
 * and whose tools need no client (a child thread has none); `self` stands for the owner, at most once; no agent is
 * listed twice. With `requireActive`, an archived agent is refused too (a roster being written; a stored roster is
 * only read again). Every error is a 400 that names the entry (`multiagent.agents[2]`, after `options.field`).
 */
export async function resolveRoster(
  list: RosterEntryParams[],
  ownerId: string,
  lookup: AgentLookup,
  options: { requireActive: boolean; field: string },
): Promise<PendingRoster> {
  const entries: PendingEntry[] = [];
  const seen = new Map<string, number>();
  for (const [index, entry] of list.entries()) {
    const field = `${options.field}[${index}]`;
    const reference = referenceOf(entry);
    const agentId = reference?.id ?? ownerId;
    const earlier = seen.get(agentId);
    if (earlier !== undefined) {
      throw invalidField(
        field,
        reference === null
          ? 'at most one {type: "self"} entry'
          : `agent ${agentId} is already listed at ${options.field}[${earlier}]; a roster lists each agent once`,
      );
    }
    seen.set(agentId, index);
    if (reference === null) {
      entries.push({ kind: 'self' });
      continue;
    }
    if (reference.id === ownerId) {
      throw invalidField(field, 'this is the agent being written: list it as {type: "self"}');
    }
    if (!isResourceId('agent', reference.id)) {
      throw invalidField(field, `expected an agent id (agent_…), got "${reference.id.slice(0, 80)}"`);
    }
    const agent = await lookup(reference.id, reference.version);
    if (agent === null) {
      const latest = reference.version === undefined ? null : await lookup(reference.id);
      throw invalidField(
        field,
        latest === null
          ? `no agent ${reference.id}`
          : `agent ${reference.id} has no version ${reference.version}; its latest is ${latest.version}`,
      );
    }
    if (options.requireActive && agent.archivedAt !== null) {
      throw invalidField(field, `agent ${agent.id} is archived; an archived agent cannot join a roster`);
    }
    if (agent.definition.multiagent !== null) {
      throw invalidField(
        field,
        `agent ${agent.id} (version ${agent.version}) has multiagent set; a roster agent cannot coordinate agents ` +
          'of its own (depth limit 1)',
      );
    }
    entries.push({ kind: 'agent', agent });
  }
  return { field: options.field, entries };
}

/**
 * The stored roster of the coordinator `owner` (the version being written): `self` becomes a reference to that
 * version, after its own tools and every agent's name are checked (the coordinator's model calls roster agents by
 * name, so names are distinct).
 */
export function completeRoster(
  pending: PendingRoster,
  owner: { id: string; version: number; definition: AgentDefinition },
): BetaManagedAgentsAgentReference[] {
  const names = new Map<string, number>();
  return pending.entries.map((entry, index): BetaManagedAgentsAgentReference => {
    const field = `${pending.field}[${index}]`;
    const name = entry.kind === 'self' ? owner.definition.name : entry.agent.definition.name;
    const earlier = names.get(name);
    if (earlier !== undefined) {
      throw invalidField(
        field,
        `the name "${name}" is also ${pending.field}[${earlier}]'s; the coordinator calls roster agents by name, ` +
          'so their names must differ',
      );
    }
    names.set(name, index);
    return entry.kind === 'self'
      ? { type: 'agent', id: owner.id, version: owner.version }
      : { type: 'agent', id: entry.agent.id, version: entry.agent.version };
  });
}

/** A stored roster as parameters again (the owner's own entry as `self`), so an update can check it anew. */
export function rosterParamsOf(
  roster: ReadonlyArray<{ type: string; id?: string; version?: number }>,
  ownerId: string,
): RosterEntryParams[] {
  return roster.map((entry): RosterEntryParams => {
    if (entry.type !== 'agent' || entry.id === undefined || entry.version === undefined) {
      throw new ApiError('api_error', `a stored roster holds a ${entry.type} entry`);
    }
    return entry.id === ownerId ? { type: 'self' } : { type: 'agent', id: entry.id, version: entry.version };
  });
}

/**
 * The saved agents a `multiagent` configuration lets the session's primary thread run as child threads, with where
 * the list sits (for errors): a coordinator's `agents`, or the enabled `subagents.predefined_agents` of a
 * `multiagent_20261001`. `null` when the agent runs no child threads (no `multiagent`, or subagents disabled).
 */
export function rosterOf<Entry extends { type: string }>(
  multiagent:
    | { type: 'coordinator'; agents: Entry[] }
    | { type: 'multiagent_20261001'; subagents: { type: 'disabled' } | { type: 'enabled'; predefined_agents: Entry[] } }
    | null,
): { entries: Entry[]; field: string } | null {
  if (multiagent === null) return null;
  if (multiagent.type === 'coordinator') return { entries: multiagent.agents, field: 'multiagent.agents' };
  if (multiagent.subagents.type !== 'enabled') return null;
  return { entries: multiagent.subagents.predefined_agents, field: 'multiagent.subagents.predefined_agents' };
}

/** `definition` with its roster's `self` entry (the reference to `ownerId`) at `version`. */
export function withSelfVersion(definition: AgentDefinition, ownerId: string, version: number): AgentDefinition {
  const multiagent: BetaManagedAgentsMultiagent | null = definition.multiagent;
  const follow = <Entry extends { type: string; id?: string }>(entries: Entry[]): Entry[] =>
    entries.map((entry) => (entry.type === 'agent' && entry.id === ownerId ? { ...entry, version } : entry));
  if (multiagent === null) return definition;
  if (multiagent.type === 'coordinator') {
    return { ...definition, multiagent: { ...multiagent, agents: follow(multiagent.agents) } };
  }
  if (multiagent.subagents.type !== 'enabled') return definition;
  const subagents = { ...multiagent.subagents, predefined_agents: follow(multiagent.subagents.predefined_agents) };
  return { ...definition, multiagent: { ...multiagent, subagents } };
}

/** An entry's agent reference, or `null` for `self`. */
function referenceOf(entry: RosterEntryParams): { id: string; version?: number } | null {
  if (typeof entry === 'string') return { id: entry };
  if (entry.type === 'self') return null;
  return entry.version === null || entry.version === undefined
    ? { id: entry.id }
    : { id: entry.id, version: entry.version };
}
