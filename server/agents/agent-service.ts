import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { AgentSnapshot } from '../../common/agent';
import { ApiError } from '../api-error';
import { newAgentDefinition, sameDefinition, updatedAgentDefinition } from './agent-definition';
import type { CreateAgentBody, UpdateAgentBody } from './agent-request-schemas';
import { toAgentSnapshot } from './agent-snapshot';
import { toAgentView } from './agent-view';
import { withSelfVersion } from './agent-roster';
import type { AgentLookup } from './agent-roster';
import { completeMultiagent, keptMultiagentParams, resolveMultiagent } from './agent-multiagent';
import type { PendingMultiagent } from './agent-multiagent';
import { toPageResponse } from '../page-query';
import { DEFAULT_WORKSPACE_ID } from '../../common/workspace';
import { newResourceId, requireResourceId } from '../resource-ids';
import type {
  AgentDefinition,
  AgentListRequest,
  ControlPlaneStore,
  PageRequest,
  StoredAgent,
} from '../store/control-plane-store';
import type { SkillService } from '../skills/skill-service';

/** A page of agents in the SDK's `PageCursor` shape. */
export interface AgentPage {
  data: BetaManagedAgentsAgent[];
  next_page: string | null;
}

/**
 * Agent operations on the control-plane store, shared by the routes and by session creation: every change of an
 * agent writes a new immutable version, so a session that snapshotted a version never sees a later change.
 */
export class AgentService {
  constructor(
    private readonly store: ControlPlaneStore,
    private readonly skills: SkillService,
  ) {}

  /** Creates an agent at version 1. */
  async create(body: CreateAgentBody): Promise<BetaManagedAgentsAgent> {
    const now = new Date().toISOString();
    const id = newResourceId('agent');
    const definition = newAgentDefinition(body);
    const multiagent =
      body.multiagent === undefined || body.multiagent === null
        ? null
        : await resolveMultiagent(body.multiagent, null, id, this.lookup, { requireActive: true });
    const agent: StoredAgent = {
      id,
      // The workspace-scoped store the server gives this service puts the record in the request's workspace.
      workspaceId: DEFAULT_WORKSPACE_ID,
      version: 1,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      definition:
        multiagent === null
          ? definition
          : { ...definition, multiagent: completeMultiagent(multiagent, { id, version: 1, definition }) },
    };
    await this.skills.checkAgentSkills(agent.definition.skills);
    await this.store.agents.insert(agent);
    return toAgentView(agent);
  }

  /** The agent's latest version, or `version`; 404 when either is unknown. */
  async retrieve(agentId: string, version?: number): Promise<BetaManagedAgentsAgent> {
    return toAgentView(await this.find(agentId, version));
  }

  /**
   * Applies an update as a new version. When `version` is sent it must be the latest (409 otherwise, so concurrent
   * editors cannot overwrite each other); an archived agent cannot change (409); an update that changes nothing
   * returns the agent as it is.
   */
  async update(agentId: string, body: UpdateAgentBody): Promise<BetaManagedAgentsAgent> {
    requireResourceId('agent', agentId, 'agent_id');
    if (body.skills !== undefined && body.skills !== null) {
      await this.skills.checkAgentSkills(
        body.skills.map((skill) => ({
          type: skill.type,
          skill_id: skill.skill_id,
          version: skill.version ?? 'latest',
        })),
      );
    }
    const multiagent = await this.multiagentForUpdate(agentId, body);
    const updated = await this.store.agents.appendVersion(
      agentId,
      (latest) => {
        if (latest.archivedAt !== null) {
          throw new ApiError('conflict_error', `Agent ${agentId} is archived; it cannot be changed.`);
        }
        if (body.version !== undefined && body.version !== latest.version) {
          throw new ApiError(
            'conflict_error',
            `version: agent ${agentId} is at version ${latest.version}, not ${body.version}; retrieve it and retry.`,
          );
        }
        const version = latest.version + 1;
        let next = updatedAgentDefinition(latest.definition, body);
        if (multiagent !== null) {
          if (multiagent.basis !== null && !sameDefinition(multiagent.basis, latest.definition)) {
            throw new ApiError('conflict_error', `Agent ${agentId} changed while it was updated; retry.`);
          }
          const owner = { id: agentId, version, definition: next };
          next = { ...next, multiagent: completeMultiagent(multiagent.pending, owner) };
        }
        // `self` points at the version being written: an update that changes nothing else makes no version.
        return sameDefinition(withSelfVersion(next, agentId, latest.version), latest.definition) ? null : next;
      },
      new Date().toISOString(),
    );
    if (updated === null) throw notFound(agentId);
    return toAgentView(updated);
  }

  /**
   * The `multiagent` an update leaves on the agent, resolved and checked: the one it sends (a `multiagent_20261001`
   * merged into a stored one), or the stored one when it sends none (its `self` entry then follows the new version,
   * and the agent's new tools and name are checked against it); `basis` is the definition the stored configuration
   * was read from, when it was. `null` when the agent ends up with no `multiagent`.
   */
  private async multiagentForUpdate(
    agentId: string,
    body: UpdateAgentBody,
  ): Promise<{ pending: PendingMultiagent; basis: AgentDefinition | null } | null> {
    if (body.multiagent === null) return null;
    if (body.multiagent?.type === 'coordinator') {
      return {
        pending: await resolveMultiagent(body.multiagent, null, agentId, this.lookup, { requireActive: true }),
        basis: null,
      };
    }
    const latest = await this.store.agents.get(agentId);
    const stored = latest?.definition.multiagent ?? null;
    if (body.multiagent !== undefined) {
      const merged = stored?.type === 'multiagent_20261001' ? stored : null;
      const pending = await resolveMultiagent(body.multiagent, merged, agentId, this.lookup, { requireActive: true });
      return { pending, basis: merged === null || latest === null ? null : latest.definition };
    }
    if (latest === null || stored === null) return null;
    // The stored versions are immutable and were checked when the roster was written; only archival may have changed,
    // and an archived roster agent is refused when a session starts, not here.
    const kept = keptMultiagentParams(stored, agentId);
    const pending = await resolveMultiagent(kept, stored, agentId, this.lookup, { requireActive: false });
    return { pending, basis: latest.definition };
  }

  /**
   * One agent of a coordinator's roster, as a new session runs it: its snapshot and its view at the stored version;
   * 409 when it was archived since the roster was written.
   */
  async forRoster(
    reference: { id: string; version: number },
    field: string,
  ): Promise<{ snapshot: AgentSnapshot; view: BetaManagedAgentsAgent }> {
    const agent = await this.find(reference.id, reference.version, field);
    if (agent.archivedAt !== null) {
      throw new ApiError(
        'conflict_error',
        `${field}: agent ${agent.id} of the coordinator's roster is archived; it cannot start new sessions.`,
      );
    }
    return { snapshot: toAgentSnapshot(agent), view: toAgentView(agent) };
  }

  /** Agents, newest first, without archived ones unless asked. */
  async list(request: AgentListRequest): Promise<AgentPage> {
    return toPageResponse(await this.store.agents.list(request), toAgentView);
  }

  /** The agent's versions, newest first. */
  async listVersions(agentId: string, request: PageRequest): Promise<AgentPage> {
    requireResourceId('agent', agentId, 'agent_id');
    const page = await this.store.agents.listVersions(agentId, request);
    if (page === null) throw notFound(agentId);
    return toPageResponse(page, toAgentView);
  }

  /** Archives the agent (it stays readable, leaves the default list and accepts no change); archiving twice is a no-op. */
  async archive(agentId: string): Promise<BetaManagedAgentsAgent> {
    requireResourceId('agent', agentId, 'agent_id');
    const archived = await this.store.agents.archive(agentId, new Date().toISOString());
    if (archived === null) throw notFound(agentId);
    return toAgentView(archived);
  }

  /**
   * What a new session runs for `agentId` at `version` (default the latest): 400 for a malformed id, 404 for an unknown
   * agent or version, 409 for an archived agent.
   */
  async snapshot(agentId: string, version?: number, field = 'agent'): Promise<AgentSnapshot> {
    const agent = await this.find(agentId, version, field);
    if (agent.archivedAt !== null) {
      throw new ApiError('conflict_error', `Agent ${agentId} is archived; it cannot start new sessions.`);
    }
    return toAgentSnapshot(agent);
  }

  /**
   * What a new session runs for `agentId` at `version` (default the latest), with `overrides` applied to that
   * version (`agent_with_overrides`: each given field replaces the agent's, as an update would, without making a
   * version): the snapshot the Workflow runs and the session object's `agent`. Errors as `snapshot`; an override
   * Keel cannot run is a 400 naming `field`.
   */
  async forSession(
    agentId: string,
    version: number | undefined,
    overrides: AgentOverrides | undefined,
    field = 'agent',
  ): Promise<{ snapshot: AgentSnapshot; view: BetaManagedAgentsAgent }> {
    const stored = await this.find(agentId, version, field);
    if (stored.archivedAt !== null) {
      throw new ApiError('conflict_error', `Agent ${agentId} is archived; it cannot start new sessions.`);
    }
    const agent =
      overrides === undefined
        ? stored
        : { ...stored, definition: updatedAgentDefinition(stored.definition, overrides) };
    if (overrides?.skills !== undefined && overrides.skills !== null) {
      await this.skills.checkAgentSkills(agent.definition.skills, `${field}.skills`);
    }
    const view = toAgentView(agent);
    return { snapshot: toAgentSnapshot(agent), view };
  }

  private readonly lookup: AgentLookup = (agentId, version) => this.store.agents.get(agentId, version);

  private async find(agentId: string, version?: number, field = 'agent_id'): Promise<StoredAgent> {
    requireResourceId('agent', agentId, field);
    const agent = await this.store.agents.get(agentId, version);
    if (agent === null) {
      const known = version === undefined ? null : await this.store.agents.get(agentId);
      throw known === null
        ? notFound(agentId)
        : new ApiError(
            'not_found_error',
            `Agent ${agentId} has no version ${version}; its latest is ${known.version}.`,
          );
    }
    return agent;
  }
}

/** The fields `agent_with_overrides` (and a session's agent update) may replace; each given one replaces the agent's. */
export type AgentOverrides = Pick<UpdateAgentBody, 'model' | 'system' | 'tools' | 'mcp_servers' | 'skills'>;

function notFound(agentId: string): ApiError {
  return new ApiError('not_found_error', `No agent ${agentId}.`);
}
