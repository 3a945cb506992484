import type {
  BetaManagedAgentsSessionThread,
  BetaManagedAgentsSessionThreadUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import type { BetaManagedAgentsSessionThreadAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import { activeSeconds } from '../../../common/active-time';
import type { ThreadRecord } from '../../../common/multiagent';
import { usageView } from '../../../common/session';
import type { SessionAgentView, SessionView } from '../session-view';
import { primaryThreadId } from '../../../common/multiagent';

/** A session thread as the hosted API shows it (`BetaManagedAgentsSessionThread`). */
export type SessionThreadView = BetaManagedAgentsSessionThread;

/**
 * The primary thread of a session, built from the session object: its status, times and stats are the session's, its
 * agent is the session's agent snapshot, and its usage is the session's less what its child threads used (`children`;
 * a single-agent session has none, and its thread's usage is the session's). It has no parent
 * (`parent_thread_id: null`), no workflow run (`workflow_run_id: null`) and is never archived on its own.
 */
export function toPrimaryThreadView(session: SessionView, children: readonly ThreadRecord[] = []): SessionThreadView {
  return {
    id: primaryThreadId(session.id),
    type: 'session_thread',
    session_id: session.id,
    status: session.status,
    agent: threadAgentOf(session.agent),
    parent_thread_id: null,
    workflow_run_id: null,
    created_at: session.created_at,
    updated_at: session.updated_at,
    archived_at: null,
    stats: { active_seconds: session.stats.active_seconds, duration_seconds: session.stats.duration_seconds },
    usage: threadUsageOf(children.length === 0 ? session.usage : withoutChildUsage(session.usage, children)),
  };
}

/**
 * The session's usage less its child threads' token counts (each counted in the session's too); without a list cost,
 * which Keel keeps for the session only.
 */
function withoutChildUsage(usage: SessionView['usage'], children: readonly ThreadRecord[]): SessionView['usage'] {
  const sum = (count: (record: ThreadRecord) => number): number =>
    children.reduce((total, record) => total + count(record), 0);
  const { list_cost: _listCost, ...rest } = usage;
  return {
    ...rest,
    input_tokens: Math.max(0, usage.input_tokens - sum((record) => record.usage.input_tokens)),
    output_tokens: Math.max(0, usage.output_tokens - sum((record) => record.usage.output_tokens)),
    cache_read_input_tokens: Math.max(
      0,
      usage.cache_read_input_tokens - sum((record) => record.usage.cache_read_input_tokens),
    ),
    cache_creation: {
      ...usage.cache_creation,
      ephemeral_5m_input_tokens: Math.max(
        0,
        usage.cache_creation.ephemeral_5m_input_tokens - sum((record) => record.usage.cache_creation_input_tokens),
      ),
    },
  };
}

/**
 * A child thread of a multiagent session, built from what the session's Workflow keeps of it (`ThreadRecord`): its
 * parent is the primary thread, its agent the roster agent it runs. Its clocks stop when it is archived or terminated
 * (at its `updated_at` then) and when the session has ended; a thread of an ended session shows as `terminated`.
 */
export function toChildThreadView(
  session: SessionView,
  record: ThreadRecord,
  nowMs: number = Date.now(),
): SessionThreadView {
  const sessionEndedAt =
    session.status === 'terminated' ? Date.parse(session.created_at) + session.stats.duration_seconds * 1000 : nowMs;
  const stoppedAt =
    record.archivedAt !== null
      ? Date.parse(record.archivedAt)
      : record.status === 'terminated'
        ? Date.parse(record.updatedAt)
        : sessionEndedAt;
  const until = Math.min(stoppedAt, sessionEndedAt, nowMs);
  const active = activeSeconds(record.activeTime, until);
  return {
    id: record.id,
    type: 'session_thread',
    session_id: session.id,
    status: session.status === 'terminated' ? 'terminated' : record.status,
    agent: record.agentView,
    parent_thread_id: primaryThreadId(session.id),
    workflow_run_id: null,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    archived_at: record.archivedAt,
    stats: { active_seconds: active, duration_seconds: Math.max(0, (until - Date.parse(record.createdAt)) / 1000) },
    usage: threadUsageOf(usageView(record.usage, active)),
  };
}

/**
 * The thread's agent (`BetaManagedAgentsSessionThreadAgent`): the session's agent snapshot without `multiagent`, with
 * `execution_identity` (`service_account` when the snapshot names no principal). The session object's agent is a
 * `SessionAgentView` at run time; its declared type only promises the fields every session shows.
 */
function threadAgentOf(agent: SessionView['agent']): BetaManagedAgentsSessionThreadAgent {
  const snapshot = agent as SessionView['agent'] & Partial<SessionAgentView>;
  return {
    id: agent.id ?? 'keel-default',
    type: 'agent',
    version: agent.version,
    name: agent.name,
    description: snapshot.description ?? null,
    model: snapshot.model,
    system: agent.system,
    tools: snapshot.tools ?? [],
    mcp_servers: snapshot.mcp_servers ?? [],
    skills: snapshot.skills ?? [],
    execution_identity: snapshot.execution_identity ?? { type: 'service_account' },
  };
}

/** The thread's usage in the thread object's shape, field for field from the session object's usage shape. */
function threadUsageOf(usage: SessionView['usage']): BetaManagedAgentsSessionThreadUsage {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation: usage.cache_creation,
    active_seconds: usage.active_seconds,
    ...(usage.list_cost === undefined ? {} : { list_cost: usage.list_cost }),
  };
}
