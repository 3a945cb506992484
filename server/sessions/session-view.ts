import { toThreadAgentView } from '../agents/thread-agent-view';
import { sessionMultiagentOf } from './callable-agents';
import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type {
  BetaManagedAgentsFileResource,
  BetaManagedAgentsGitHubRepositoryResource,
  BetaManagedAgentsMemoryStoreResource,
} from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import type { SessionResourceRecord } from '../../common/session';
import type { CallableAgent } from '../../common/multiagent';
import type { BetaManagedAgentsSessionAgent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { SessionStatus } from '../../common/events';
import { activeSeconds } from '../../common/active-time';
import { toSessionListing } from '../../common/session-listing';
import type { ListedAgent, SessionListing } from '../../common/session-listing';
import { usageView } from '../../common/session';
import type { SessionStatsView, SessionSummary, SessionUsageView } from '../../common/session';
import type { OutcomeEvaluationView } from '../../common/outcome';
import type { BudgetLimit } from '../../common/list-price';

/** The session object of the hosted API, as far as Keel fills it. */
export interface SessionView {
  id: string;
  type: 'session';
  status: SessionStatus;
  title: string | null;
  metadata: Record<string, string>;
  agent: {
    id: string | null;
    type: 'agent';
    name: string;
    version: number;
    model: { id: string };
    system: string | null;
  };
  environment_id: string | null;
  /** The deployment that created the session, or `null`. */
  deployment_id: string | null;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  usage: SessionUsageView;
  stats: SessionStatsView;
  resources: SessionResourceRecord[];
  vault_ids: string[];
  budget: BudgetLimit | null;
  outcome_evaluations: OutcomeEvaluationView[];
}

/**
 * A session resource as the hosted session object shows it: a file, a repository (never its token), or a memory store
 * (with Keel's `id`). The records the Workflow keeps in its memo (`SessionResourceRecord`) are of these shapes.
 */
export type SessionResourceView =
  | BetaManagedAgentsFileResource
  | BetaManagedAgentsGitHubRepositoryResource
  | (BetaManagedAgentsMemoryStoreResource & { id: string });

/** The agent a session runs, as the hosted session object shows it. */
export type SessionAgentView = BetaManagedAgentsSessionAgent;

/**
 * The agent version a session snapshots, in the session object's shape; its `multiagent` (once `callableAgents` are
 * resolved) shows each roster agent's full definition (`callableAgents`' views), as the hosted session object does.
 */
export function toSessionAgentView(agent: BetaManagedAgentsAgent, callableAgents?: CallableAgent[]): SessionAgentView {
  return {
    ...toThreadAgentView(agent),
    multiagent: callableAgents === undefined ? null : sessionMultiagentOf(agent.multiagent, callableAgents),
  };
}

/**
 * What the session object takes from a Workflow execution, as a description or a visibility listing gives it (or
 * `sessions.create`, from what it started).
 */
export type SessionExecution = Pick<WorkflowExecutionInfo, 'workflowId' | 'startTime' | 'closeTime' | 'memo'> & {
  status: Pick<WorkflowExecutionInfo['status'], 'name'>;
};

/** Builds the session object from the Workflow's description and its `getSessionQuery` answer. */
export function toSessionView(description: SessionExecution, summary: SessionSummary): SessionView {
  // Through the listing the Workflow publishes, so a retrieved session and a listed one are built the same way.
  const listing = toSessionListing(summary, {
    startedAt: description.startTime.toISOString(),
    withDefaultAgent: true,
  });
  const view = toListedSessionView(description, listing);
  if (view === null) throw new Error(`session ${description.workflowId}: no agent to show`);
  return view;
}

/**
 * Builds the session object from one execution of a visibility listing (or a description) and the listing its
 * Workflow published (`SessionListing`), with no call to the Workflow; `null` when the memo has no agent view and the
 * listing no default agent, so the caller asks the Workflow instead. Times that flow on their own are computed here:
 * up to now while the Workflow runs, up to its close time once it has closed.
 */
export function toListedSessionView(execution: SessionExecution, listing: SessionListing): SessionView | null {
  const memo = execution.memo;
  const agent =
    (memo?.['agent'] as SessionAgentView | null | undefined) ??
    (listing.defaultAgent === undefined ? null : defaultAgentView(listing.defaultAgent));
  if (agent === null) return null;
  const metadata = (memo?.['metadata'] ?? {}) as Record<string, string>;
  const closed = execution.status.name !== 'RUNNING' && execution.status.name !== 'CONTINUED_AS_NEW';
  const now = execution.closeTime?.getTime() ?? Date.now();
  // One thread per session: the session's active time and its thread's are the same.
  const active = activeSeconds(listing.activeTime, now);
  return {
    id: execution.workflowId,
    type: 'session',
    status: closed ? 'terminated' : listing.status,
    title: listing.title,
    metadata,
    agent,
    environment_id: (memo?.['environment_id'] as string | null | undefined) ?? null,
    deployment_id: (memo?.['deployment_id'] as string | null | undefined) ?? null,
    created_at: listing.createdAt,
    updated_at: listing.updatedAt,
    archived_at: listing.archivedAt,
    usage: usageView(listing.usage, active, listing.listCost),
    stats: {
      active_seconds: active,
      duration_seconds: Math.max(0, (now - Date.parse(listing.createdAt)) / 1000),
      event_count: listing.eventCount,
      queued_messages: listing.queuedMessages,
    },
    resources: (memo?.['resources'] as SessionResourceRecord[] | undefined) ?? [],
    vault_ids: (memo?.['vault_ids'] as string[] | undefined) ?? [],
    budget: listing.budget ?? null,
    outcome_evaluations: listing.outcomeEvaluations ?? [],
  };
}

/** The server's default agent (sessions created without `agent`, a Keel extension) in the session object's shape. */
function defaultAgentView(agent: ListedAgent): SessionAgentView {
  return {
    id: agent.id ?? 'keel-default',
    type: 'agent',
    version: agent.version,
    name: agent.name,
    description: null,
    model: { id: agent.model },
    system: agent.system,
    tools: [],
    mcp_servers: [],
    skills: [],
    execution_identity: { type: 'service_account' },
    multiagent: null,
  };
}

/** Fails to compile when a resource record stops matching the SDK's shape of a session resource. */
export const RESOURCE_RECORDS_MATCH_SDK: (record: SessionResourceRecord) => SessionResourceView = (record) => record;
