import { noActiveTime } from './active-time';
import type { ActiveTime } from './active-time';
import type { AgentSnapshot } from './agent';
import type { SessionStatus } from './events';
import type { SessionSummary, SessionUsage } from './session';
import type { OutcomeEvaluationView } from './outcome';
import type { BudgetLimit, MonetaryAmount } from './list-price';

/** The memo key under which the session Workflow keeps its `SessionListing`. */
export const SESSION_LISTING_MEMO_KEY = 'listing';

/** The fields of the agent snapshot that the session object shows for the server's default agent. */
export type ListedAgent = Pick<AgentSnapshot, 'id' | 'version' | 'name' | 'model' | 'system'>;

/**
 * The session as its Workflow last published it to its memo, so `sessions.list` builds a page from Temporal's
 * visibility listing alone, without a call per session. `sessions.create` starts the Workflow with one in its memo
 * (`startedAt` not known yet); the Workflow publishes its own when it starts, when its status changes (a turn starts,
 * ends, waits for the client or is rescheduled), when its title, metadata or agent change, when it is archived, and
 * when it ends; counts that move during a turn (events, usage, queued messages) are those of the last status change.
 * Times that flow on their own (`active_seconds`, `duration_seconds`) are computed when read, from `activeTime` and the
 * listing's times. JSON-plain, as every memo value.
 */
export interface SessionListing {
  /**
   * When the session's first run started, on Temporal's clock (a session's latest run may have started later): where
   * listings place it, as its Workflow's start time always placed it. Absent from the listing a session is started
   * with (`sessions.create` cannot know Temporal's clock): until its Workflow publishes one, its run's start places it.
   */
  startedAt?: string;
  status: SessionStatus;
  title: string | null;
  createdAt: string;
  /** `processed_at` of the session's last event when published; `createdAt` before its first. */
  updatedAt: string;
  archivedAt: string | null;
  usage: SessionUsage;
  eventCount: number;
  queuedMessages: number;
  activeTime: ActiveTime;
  /** Set only for a session on the server's default agent (its memo has no `agent` view to show). */
  defaultAgent?: ListedAgent;
  /** The session object's `outcome_evaluations`; absent when the session has defined no outcome. */
  outcomeEvaluations?: OutcomeEvaluationView[];
  /** The session's budget; absent when it has none. */
  budget?: BudgetLimit;
  /** The session's list cost in whole cents; absent when its model has no list price. */
  listCost?: MonetaryAmount;
}

/**
 * The listing of a session in the state `summary` describes, first started at `startedAt` (`undefined` when not known
 * yet); with the default agent's fields when its memo has no agent view to show (`withDefaultAgent`).
 */
export function toSessionListing(
  summary: SessionSummary,
  options: { startedAt: string | undefined; withDefaultAgent: boolean },
): SessionListing {
  const { agent } = summary;
  return {
    ...(options.startedAt === undefined ? {} : { startedAt: options.startedAt }),
    status: summary.status,
    title: summary.title,
    createdAt: summary.createdAt,
    updatedAt: summary.lastEvent?.processed_at ?? summary.createdAt,
    archivedAt: summary.archivedAt,
    usage: summary.usage,
    eventCount: summary.eventCount,
    queuedMessages: summary.queuedMessages,
    activeTime: summary.activeTime ?? noActiveTime(),
    ...(summary.outcomeEvaluations === undefined ? {} : { outcomeEvaluations: summary.outcomeEvaluations }),
    ...(summary.budget === undefined || summary.budget === null ? {} : { budget: summary.budget }),
    ...(summary.listCost === undefined ? {} : { listCost: summary.listCost }),
    ...(options.withDefaultAgent
      ? {
          defaultAgent: {
            id: agent.id,
            version: agent.version,
            name: agent.name,
            model: agent.model,
            system: agent.system,
          },
        }
      : {}),
  };
}

/** The listing in a memo, or `null` for a session whose Workflow has not published one (it predates listings). */
export function sessionListingOf(memo: Record<string, unknown> | undefined): SessionListing | null {
  const value = memo?.[SESSION_LISTING_MEMO_KEY];
  return typeof value === 'object' && value !== null && 'status' in value ? (value as SessionListing) : null;
}
