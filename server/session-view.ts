import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { SessionStatus } from '../common/events';
import type { SessionSummary } from '../common/session';

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
  archived_at: null;
  usage: SessionSummary['usage'];
  stats: { event_count: number; queued_messages: number };
  resources: [];
  vault_ids: [];
  budget: null;
  outcome_evaluations: [];
}

/** Builds the session object from the Workflow's description and its `getSessionQuery` answer. */
export function toSessionView(description: WorkflowExecutionDescription, summary: SessionSummary): SessionView {
  const metadata = (description.memo?.['metadata'] ?? {}) as Record<string, string>;
  const closed = description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW';
  return {
    id: description.workflowId,
    type: 'session',
    status: closed ? 'terminated' : summary.status,
    title: summary.title,
    metadata,
    agent: {
      id: summary.agent.id,
      type: 'agent',
      name: summary.agent.name,
      version: summary.agent.version,
      model: { id: summary.agent.model },
      system: summary.agent.system,
    },
    environment_id: null,
    created_at: summary.createdAt,
    updated_at: (summary.lastEvent?.processed_at ?? summary.createdAt) || summary.createdAt,
    archived_at: null,
    usage: summary.usage,
    stats: { event_count: summary.eventCount, queued_messages: summary.queuedMessages },
    resources: [],
    vault_ids: [],
    budget: null,
    outcome_evaluations: [],
  };
}
