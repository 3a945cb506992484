import type {
  BetaManagedAgentsSessionThread,
  BetaManagedAgentsSessionThreadUsage,
} from '@anthropic-ai/sdk/resources/beta/sessions/threads/threads';
import type { BetaManagedAgentsSessionThreadAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { SessionAgentView, SessionView } from '../session-view';
import { primaryThreadId } from './primary-thread-id';

/** A session thread as the hosted API shows it (`BetaManagedAgentsSessionThread`). */
export type SessionThreadView = BetaManagedAgentsSessionThread;

/**
 * The primary thread of a session, built from the session object: a Keel session runs one thread, so the thread's
 * status, times, stats and usage are the session's, and its agent is the session's agent snapshot. It has no parent
 * (`parent_thread_id: null`), no workflow run (`workflow_run_id: null`) and is never archived on its own.
 */
export function toPrimaryThreadView(session: SessionView): SessionThreadView {
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
    usage: threadUsageOf(session.usage),
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

/** The thread's usage: the session's, field for field (one thread carries all of a session's usage). */
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
