import type { BetaManagedAgentsSessionThreadAgent } from '@anthropic-ai/sdk/resources/beta/agents/agents';
import type { BetaManagedAgentsSessionThreadStatusIdleEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { ID_PREFIXES } from './ids';
import type { ActiveTime } from './active-time';
import type { AgentSnapshot } from './agent';
import type { TextBlock } from './events';
import type { SandboxEnvironment, SandboxFileMount } from './sandbox';
import type { AwaitedToolCall, SessionLimits, SessionUsage } from './session';
import type { SessionEvent } from './events';

/**
 * An agent of a coordinator's roster (`multiagent: {type: 'coordinator', agents}`), resolved to one version when the
 * session was created: the coordinator's threads run `snapshot`, and the model names it by `name`.
 */
export interface CallableAgent {
  /** The agent's name, unique within the roster (the coordinator's own name for a `self` entry). */
  name: string;
  snapshot: AgentSnapshot;
  /** The agent as a thread running it shows it (`sessions.threads`' `agent`), built by the server from the version. */
  view: BetaManagedAgentsSessionThreadAgent;
}

/** The statuses of a child thread, as `sessions.threads` shows them. */
export type ThreadStatus = 'running' | 'idle' | 'rescheduling' | 'terminated';

/**
 * A child thread as the session's Workflow keeps it (and `getSessionQuery` reports it under `threads`): the thread's
 * own Workflow (`threadWorkflowId`) holds its events and conversation; this is what the session knows of it.
 */
export interface ThreadRecord {
  /** `sthr_…`, never the primary thread's id. */
  id: string;
  agentName: string;
  /** The thread's `agent`, as `CallableAgent.view` gave it. */
  agentView: BetaManagedAgentsSessionThreadAgent;
  createdAt: string;
  updatedAt: string;
  status: ThreadStatus;
  archivedAt: string | null;
  /** The thread's model usage (also counted in the session's). */
  usage: SessionUsage;
  /** Time the thread spent `running`, for its `stats.active_seconds`. */
  activeTime: ActiveTime;
  /** Messages sent to the thread whose turn has not ended yet: it stays `running` while there are some. */
  queuedMessages?: number;
  /** The thread's tool calls waiting for the client (its last `requires_action`); absent when none. */
  awaiting?: AwaitedToolCall[];
  /** Calls of the current wait already cross-posted to the session, and already answered (cleared when it runs). */
  posted?: string[];
  answered?: string[];
}

/**
 * The id of a session's primary thread: `sthr_` followed by the session id's suffix (`sesn_abc…` → `sthr_abc…`). It is
 * derived, never stored, so it is stable across restarts, continue-as-new and server replicas, and names one session.
 */
export function primaryThreadId(sessionId: string): string {
  return ID_PREFIXES.sessionThread + sessionId.slice(ID_PREFIXES.session.length);
}

/** What a session carries of its threads across continue-as-new. */
export interface SessionThreadsCarry {
  records: ThreadRecord[];
  /** Threads whose replies are dropped (an interrupt of every thread caught them running). */
  silenced?: string[];
}

/** The Workflow ID of a child thread: one Workflow per thread, a Child Workflow of its session's. */
export function threadWorkflowId(sessionId: string, threadId: string): string {
  return `${sessionId}/${threadId}`;
}

/** Input of `sessionThreadWorkflow`. */
export interface SessionThreadWorkflowInput {
  sessionId: string;
  threadId: string;
  /** The primary thread's id (`sthr_` + the session id's suffix): the thread's messages to it name it. */
  primaryThreadId: string;
  /** The session Workflow's ID, which the thread reports to by Signal (whichever run is current). */
  parentWorkflowId: string;
  agentName: string;
  agent: AgentSnapshot;
  limits: SessionLimits;
  files: SandboxFileMount[];
  environment: SandboxEnvironment;
  vaultIds: string[];
  workspaceId: string;
  createdAt: string;
}

/** A message between threads (`agent.thread_message_sent` / `agent.thread_message_received`). */
export interface ThreadMessageInput {
  /** Id of the receiving event, assigned by the sender so a re-sent Signal is recognised. */
  id: string;
  content: TextBlock[];
}

/**
 * What a child thread reports to its session: a status change, with its usage so far; `reply` is the message the
 * thread sends to the coordinator when its turn ended (its last `agent.message`), `stopReason` the idle's reason.
 */
export interface ThreadReport {
  threadId: string;
  status: ThreadStatus;
  usage: SessionUsage;
  activeTime: ActiveTime;
  stopReason?: ThreadIdleStopReason;
  reply?: ThreadMessageInput;
  /**
   * With a `requires_action` idle: the events of the calls that wait for the client (`agent.tool_use`,
   * `agent.custom_tool_use`, `agent.mcp_tool_use`), which the session cross-posts, and what answers each.
   */
  awaiting?: Array<{ event: SessionEvent; resolvedBy: AwaitedToolCall['resolvedBy'] }>;
}

/** The client's answer to one of a child thread's waiting calls, which the session routes to the thread. */
export type ThreadAnswerInput =
  | { kind: 'confirmation'; id: string; eventId: string; result: 'allow' | 'deny'; denyMessage: string | null }
  | {
      kind: 'custom_result';
      id: string;
      eventId: string;
      content: TextBlock[];
      isError: boolean;
      /** The `system.message` sent with the result: it joins the thread's conversation after the results. */
      system?: { id: string; content: TextBlock[] };
    };

/** Why a child thread went idle (`session.thread_status_idle`'s `stop_reason`). */
export type ThreadIdleStopReason = BetaManagedAgentsSessionThreadStatusIdleEvent['stop_reason'];
