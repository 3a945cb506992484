import type { BetaManagedAgentsAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type {
  BetaManagedAgentsFileResource,
  BetaManagedAgentsGitHubRepositoryResource,
} from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import type { SessionResourceRecord } from '../../common/session';
import type { BetaManagedAgentsSessionAgent } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { SessionStatus } from '../../common/events';
import { activeSeconds, noActiveTime } from '../../common/active-time';
import { usageView } from '../../common/session';
import type { SessionStatsView, SessionSummary, SessionUsageView } from '../../common/session';

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
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  usage: SessionUsageView;
  stats: SessionStatsView;
  resources: SessionResourceRecord[];
  vault_ids: string[];
  budget: null;
  outcome_evaluations: [];
}

/**
 * A session resource as the hosted session object shows it: a file, or a repository (never its token). The records
 * the Workflow keeps in its memo (`SessionResourceRecord`) are of these shapes.
 */
export type SessionResourceView = BetaManagedAgentsFileResource | BetaManagedAgentsGitHubRepositoryResource;

/** The agent a session runs, as the hosted session object shows it. */
export type SessionAgentView = BetaManagedAgentsSessionAgent;

/** The agent version a session snapshots, in the session object's shape. */
export function toSessionAgentView(agent: BetaManagedAgentsAgent): SessionAgentView {
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
    multiagent: null,
  };
}

/** Builds the session object from the Workflow's description and its `getSessionQuery` answer. */
export function toSessionView(description: WorkflowExecutionDescription, summary: SessionSummary): SessionView {
  const metadata = (description.memo?.['metadata'] ?? {}) as Record<string, string>;
  const closed = description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW';
  const now = description.closeTime?.getTime() ?? Date.now();
  // One thread per session: the session's active time and its thread's are the same.
  const active = activeSeconds(summary.activeTime ?? noActiveTime(), now);
  return {
    id: description.workflowId,
    type: 'session',
    status: closed ? 'terminated' : summary.status,
    title: summary.title,
    metadata,
    agent: (description.memo?.['agent'] as SessionAgentView | null | undefined) ?? defaultAgentView(summary),
    environment_id: (description.memo?.['environment_id'] as string | null | undefined) ?? null,
    created_at: summary.createdAt,
    updated_at: summary.lastEvent?.processed_at ?? summary.createdAt,
    archived_at: summary.archivedAt,
    usage: usageView(summary.usage, active),
    stats: {
      active_seconds: active,
      duration_seconds: Math.max(0, (now - Date.parse(summary.createdAt)) / 1000),
      event_count: summary.eventCount,
      queued_messages: summary.queuedMessages,
    },
    resources: (description.memo?.['resources'] as SessionResourceRecord[] | undefined) ?? [],
    vault_ids: (description.memo?.['vault_ids'] as string[] | undefined) ?? [],
    budget: null,
    outcome_evaluations: [],
  };
}

/** The server's default agent (sessions created without `agent`, a Keel extension) in the session object's shape. */
function defaultAgentView(summary: SessionSummary): SessionAgentView {
  return {
    id: summary.agent.id ?? 'keel-default',
    type: 'agent',
    version: summary.agent.version,
    name: summary.agent.name,
    description: null,
    model: { id: summary.agent.model },
    system: summary.agent.system,
    tools: [],
    mcp_servers: [],
    skills: [],
    execution_identity: { type: 'service_account' },
    multiagent: null,
  };
}

/** Fails to compile when a resource record stops matching the SDK's shape of a session resource. */
export const RESOURCE_RECORDS_MATCH_SDK: (record: SessionResourceRecord) => SessionResourceView = (record) => record;
