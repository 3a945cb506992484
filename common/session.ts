import type { CallableAgent, SessionThreadsCarry, ThreadRecord } from './multiagent';
import type {
  BetaManagedAgentsSessionAgent,
  BetaManagedAgentsUserToolResultEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { noActiveTime } from './active-time';
import type { ActiveTime } from './active-time';
import type { AgentSnapshot } from './agent';
import { toMonetaryAmount } from './list-price';
import type { BudgetLimit, ModelListPrice, MonetaryAmount } from './list-price';
import type { EventArchiveRef, LoggedEvent, SessionEvent, SessionStatus, TextBlock, UserContentBlock } from './events';
import type { ConversationAddition, ConversationRef } from './conversation';
import type { MessageParam } from './model';
import type { DefineOutcomeInput, OutcomeEvaluationView, OutcomeState } from './outcome';
import type { SandboxEnvironment, SandboxFileMount } from './sandbox';

/** When the sandbox is provisioned: on the first tool call (the default), or before the first model call. */
export type SandboxProvisioning = 'lazy' | 'eager';

/** Limits of one session, fixed at creation. */
export interface SessionLimits {
  /** Model calls one turn may make before it ends with `session.error`. */
  maxStepsPerTurn: number;
  /** Model steps after which the run continues-as-new at the next safe point (Temporal may suggest it earlier). */
  continueAsNewAfterSteps: number;
  /** Attempts of one model call before the turn ends with `retries_exhausted`. */
  maxModelAttempts: number;
  /** Context windows by model name that override Keel's table (absent in sessions started before compaction). */
  contextWindows?: Record<string, number>;
  /**
   * How long the session may idle before its sandbox container stops (the workspace volume is kept, and the next
   * sandbox tool call starts a new container on it); 0, or absent in sessions started before it, never.
   */
  sandboxIdleTimeoutMs?: number;
  /**
   * List prices by model name that add to or override Keel's table (`KEEL_MODEL_PRICES`); the server reads them when
   * it creates a session, whose input then carries its model's price (`SessionWorkflowInput.listPrice`).
   */
  modelPrices?: Record<string, ModelListPrice>;
}

/** Token usage summed over a session, as the hosted API reports it. */
export interface SessionUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** A `user.message` waiting for its turn. Its event is already in the log. */
export interface QueuedMessage {
  eventId: string;
  content: UserContentBlock[];
  /** The text of the `system.message` that came with the message. */
  system?: TextBlock[];
  /** Set when the message is the description of a `user.define_outcome`: its turn works on that outcome. */
  outcomeId?: string;
}

/**
 * Everything a run hands to the next one at continue-as-new, JSON-plain. The events of earlier runs stay in those
 * runs (read through `getEventsQuery` on each run of the chain); only positions and ids cross over.
 */
export interface SessionCarryOver {
  firstPosition: number;
  previousRunId: string;
  /** The conversation inline: only runs from before the conversation store carried it. */
  messages?: MessageParam[];
  /** The stored conversation (references and what is not stored yet). */
  conversation?: StoredConversationState;
  /** The archives of the earlier runs not yet in an index page (`archiveIndexKey`), oldest first. */
  archives?: EventArchiveRef[];
  /** The newest index page of the older archives (see `EventArchiveIndexPage`). */
  archiveIndexKey?: string;
  /** Events the previous run logged after writing its archive (from `firstPosition` on): this run holds them. */
  carriedEvents?: LoggedEvent[];
  queue: QueuedMessage[];
  seenEventIds: string[];
  usage: SessionUsage;
  status: SessionStatus;
  sandboxProvisioned: boolean;
  /** Set once the sandbox was stopped for idling: its workspace volume still exists, to be removed at the end. */
  workspaceKept?: boolean;
  /** Set when the run ended in the middle of a turn: the next run calls the model again before taking messages. */
  turnInProgress: { stepsTaken: number } | null;
  firstMessageText: string | null;
  title: string | null;
  archivedAt: string | null;
  /** Time spent `running` so far; absent in runs from before it was kept. */
  activeTime?: ActiveTime;
  /** The repositories waiting for a clone or a new token; absent when there are none. */
  repositoryClones?: RepositoryCloneState;
  /** The session's outcomes (`user.define_outcome`), oldest first; absent when there are none. */
  outcomes?: OutcomeState[];
  /** The session's budget now; absent when it has none (never had one, or it was removed). */
  budget?: BudgetLimit;
  /** Set while the session is idle because its budget was reached: a raise or a removal resumes the turn. */
  budgetPaused?: true;
  /** The session's child threads (multiagent); absent when it has none. */
  threads?: SessionThreadsCarry;
  /** Set when the coordinator ended its turn while threads still ran: the session goes idle once they are done. */
  idleHeld?: true;
}

/** Input of `sessionWorkflow`. */
export interface SessionWorkflowInput {
  sessionId: string;
  agent: AgentSnapshot;
  title: string | null;
  createdAt: string;
  limits: SessionLimits;
  sandboxProvisioning: SandboxProvisioning;
  /** Uploaded files mounted read-only into the sandbox (session resources of type `file`). */
  files?: SandboxFileMount[];
  /** The environment snapshot (network, packages); absent means `DEFAULT_SANDBOX_ENVIRONMENT`. */
  environment?: SandboxEnvironment;
  /** Vaults whose credentials MCP calls may use: references only, resolved inside Activities. */
  vaultIds?: string[];
  /**
   * Set when the session's environment is `self_hosted`: its built-in tools run on the environment's own workers
   * (through its work queue), not in Keel's Docker sandbox.
   */
  selfHosted?: { environmentId: string };
  /** The budget the session was created with (`sessions.create`'s `budget`); later runs carry the current one. */
  budget?: BudgetLimit;
  /** The list price of the agent's model when the session was created; absent when it has none. */
  listPrice?: ModelListPrice;
  /**
   * The coordinator's roster, resolved when the session was created, when its agent has `multiagent` set: the
   * primary thread may then start child threads running these agents.
   */
  callableAgents?: CallableAgent[];
  /** Present on every run after the first. */
  carryOver?: SessionCarryOver;
}

/** Result of `sessionWorkflow`, when the session has ended. */
export interface SessionWorkflowResult {
  eventCount: number;
  usage: SessionUsage;
  /** The archives of every run, the last one included, so an ended session's events are read without a replay. */
  archives?: EventArchiveRef[];
  /** The newest index page of the archives before `archives`. */
  archiveIndexKey?: string;
}

/** Payload of the `user.message` Signal. `id` is assigned by the sender, so a re-sent Signal is recognised. */
export interface UserMessageSignalInput {
  id: string;
  content: UserContentBlock[];
  /** The `system.message` sent with it (its id and text), added to the conversation right after the message. */
  system?: { id: string; content: TextBlock[] };
}

/** Payload of the `user.interrupt` Signal. */
export interface UserInterruptSignalInput {
  id: string;
  /**
   * The child thread to interrupt (`user.interrupt`'s `session_thread_id` naming one); absent interrupts every thread
   * (the primary's id is sent as absent).
   */
  threadId?: string;
}

/** One event of a new session's `initial_events`, as the `session.initial_events` Signal carries them, in order. */
export type InitialEventInput =
  | ({ type: 'user.message' } & UserMessageSignalInput)
  | ({ type: 'user.interrupt' } & UserInterruptSignalInput)
  | ({ type: 'user.define_outcome' } & DefineOutcomeInput);

/** Payload of the `user.tool_confirmation` Update: allow or deny a tool call the session is blocked on. */
export interface ToolConfirmationInput {
  id: string;
  /** The `agent.tool_use` or `agent.mcp_tool_use` event id. */
  toolUseId: string;
  result: 'allow' | 'deny';
  denyMessage: string | null;
}

/** Payload of the `user.custom_tool_result` Update: the client's result of a custom tool call. */
export interface CustomToolResultInput {
  id: string;
  /** The `agent.custom_tool_use` event id. */
  customToolUseId: string;
  content: TextBlock[];
  isError: boolean;
  /** The `system.message` sent with it (its id and text), added to the conversation right after the tool results. */
  system?: { id: string; content: TextBlock[] };
}

/**
 * Payload of the `user.tool_result` Update: a self-hosted environment's worker's result of a built-in tool call
 * (`bash`, `read`, …) that the session routed to it. Content blocks are kept as sent (text, image, document,
 * search result); the model gets their text.
 */
export interface ToolResultInput {
  id: string;
  /** The `agent.tool_use` event id. */
  toolUseId: string;
  content: ToolResultContentBlock[];
  isError: boolean;
}

/** A block of a `user.tool_result`'s content. */
export type ToolResultContentBlock = NonNullable<BetaManagedAgentsUserToolResultEvent['content']>[number];

/**
 * A tool call the session waits on, and what resolves it: a client's confirmation or custom tool result (the session
 * is idle with `requires_action`), or a self-hosted worker's `user.tool_result` (the session is running).
 */
export interface AwaitedToolCall {
  eventId: string;
  resolvedBy: 'user.tool_confirmation' | 'user.custom_tool_result' | 'user.tool_result';
  /** The child thread whose call it is (multiagent); absent for the primary thread's. */
  threadId?: string;
}

/** Input of `updateSessionUpdate`: a new title, and metadata keys to set (a `null` value removes the key). */
export interface UpdateSessionInput {
  title?: string | null;
  metadata?: Record<string, string | null>;
  /** A new budget, or `null` to remove it; absent to keep it (checked by the Workflow's validator). */
  budget?: BudgetLimit | null;
  /**
   * A new agent configuration (tools and MCP servers changed while idle): what the next turns run, and the session
   * object's `agent` (`BetaManagedAgentsSessionAgent`, kept in the memo and carried by `session.updated`).
   */
  agent?: { snapshot: AgentSnapshot; view: BetaManagedAgentsSessionAgent };
}

/**
 * Input of the `session.resources` Update: add a resource (a `file` is mounted into the sandbox from the next tool
 * call on, a `github_repository` is cloned before it), delete one by id, or record that a repository's token was
 * rotated (the server has stored the new one; the Workflow never sees it). The Workflow keeps the list (in its memo,
 * so the session object shows it).
 */
export type SessionResourceChange =
  | { op: 'add'; resource: SessionResourceRecord }
  | { op: 'delete'; resourceId: string }
  | { op: 'rotate'; resourceId: string; updatedAt: string };

/**
 * A session resource as the session object shows it: an uploaded file, a repository cloned into the workspace, or a
 * memory store mounted under `/mnt/memory/`.
 */
export type SessionResourceRecord =
  SessionFileResourceRecord | SessionRepositoryResourceRecord | SessionMemoryStoreResourceRecord;

/**
 * A session's `memory_store` resource as the hosted API shows it (`BetaManagedAgentsMemoryStoreResource`): the store's
 * name and description snapshotted when the session was created, where it is mounted and how. Attached only when the
 * session is created (never added or removed later). `id` (`sesrsc_…`) is the one field the SDK type does not list,
 * kept so that `resources.retrieve` can name it, as the other resources do.
 */
export interface SessionMemoryStoreResourceRecord {
  id: string;
  type: 'memory_store';
  memory_store_id: string;
  name: string;
  description: string;
  mount_path: string;
  access: 'read_write' | 'read_only';
  instructions: string | null;
}

/**
 * A session's `github_repository` resource as the hosted API shows it (`BetaManagedAgentsGitHubRepositoryResource`):
 * never its token, which the server keeps sealed in its store and only the clone Activity opens.
 */
export interface SessionRepositoryResourceRecord {
  id: string;
  type: 'github_repository';
  url: string;
  /** The branch or commit to check out; `null` for the repository's default branch. */
  checkout: RepositoryCheckout | null;
  /** Under `/workspace/`, so the clone lives on the session's workspace volume. */
  mount_path: string;
  created_at: string;
  updated_at: string;
}

/** What a repository's clone checks out (`BetaManagedAgentsBranchCheckout` or `BetaManagedAgentsCommitCheckout`). */
export type RepositoryCheckout = { type: 'branch'; name: string } | { type: 'commit'; sha: string };

/**
 * Where the session's repositories stand: those waiting for a clone (cloned before the next sandbox tool call), and
 * those whose last clone failed (waiting for a rotated token). A repository in neither list is cloned.
 */
export interface RepositoryCloneState {
  awaiting: string[];
  failed: string[];
}

/** A session's `file` resource as the hosted session object shows it (`BetaManagedAgentsFileResource`). */
export interface SessionFileResourceRecord {
  id: string;
  type: 'file';
  file_id: string;
  mount_path: string;
  created_at: string;
  updated_at: string;
}

/** Input of `getEventsQuery`: events at positions strictly greater than `after` (-1 for all). */
export interface GetEventsQueryInput {
  after: number;
  limit?: number;
}

/** Answer of `getEventsQuery` from one run of the session's chain. */
export interface EventsPage {
  events: LoggedEvent[];
  /** Position of the first event this run holds; earlier ones are in `previousRunId`. */
  firstPosition: number;
  /** Position the next event will get. */
  nextPosition: number;
  previousRunId: string | null;
  /**
   * The archives of the earlier runs, oldest first, contiguous up to `firstPosition`; absent or shorter for runs
   * written before archives existed (then the reader walks `previousRunId` for the rest).
   */
  archives?: EventArchiveRef[];
  /** The newest index page of the archives before `archives` (see `EventArchiveIndexPage`). */
  archiveIndexKey?: string;
  status: SessionStatus;
}

/** Answer of `getSessionQuery`: the session's state without its events. */
export interface SessionSummary {
  status: SessionStatus;
  usage: SessionUsage;
  eventCount: number;
  queuedMessages: number;
  title: string | null;
  agent: AgentSnapshot;
  createdAt: string;
  archivedAt: string | null;
  lastEvent: SessionEvent | null;
  /** Time spent `running`, for `stats.active_seconds`; absent from sessions that have not answered since it was kept. */
  activeTime?: ActiveTime;
  /** Tool calls waiting for the client (`requires_action`), in the order the model made them. */
  awaiting?: AwaitedToolCall[];
  /** The session object's `outcome_evaluations`; absent when the session has defined no outcome. */
  outcomeEvaluations?: OutcomeEvaluationView[];
  /** The session's budget; absent from sessions that have not answered since budgets exist (they have none). */
  budget?: BudgetLimit | null;
  /** The session's list cost in whole cents; absent when its model has no list price. */
  listCost?: MonetaryAmount;
  /** The session's child threads (multiagent), oldest first; absent when it has none. */
  threads?: ThreadRecord[];
}

/**
 * A session's `usage` as the API shows it; Keel writes 5-minute cache entries only, and has no server tools yet. The
 * list cost is there when the session's model has a list price.
 */
export interface SessionUsageView {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  active_seconds: number;
  list_cost?: MonetaryAmount;
}

/** A session's `stats`: the hosted `active_seconds` and `duration_seconds`, plus Keel's counts of the log and queue. */
export interface SessionStatsView {
  active_seconds: number;
  duration_seconds: number;
  event_count: number;
  queued_messages: number;
}

/** A session's cumulative usage as the API shows it, in the session object and in `session.usage` snapshots. */
export function usageView(usage: SessionUsage, activeSeconds: number, listCost?: MonetaryAmount): SessionUsageView {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    active_seconds: activeSeconds,
    ...(listCost === undefined ? {} : { list_cost: listCost }),
  };
}

/** The four counts of a Messages API `usage` that a session adds up; a missing cache count is zero. */
export function usageCounts(usage: {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}): SessionUsage {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
  };
}

/** Adds `usage` to `total`, count by count. */
export function addUsage(total: SessionUsage, usage: SessionUsage): void {
  for (const key of Object.keys(total) as Array<keyof SessionUsage>) total[key] += usage[key];
}

/** Usage with every count at zero. */
export function emptyUsage(): SessionUsage {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

/**
 * What `getSessionQuery` answers for a session whose Workflow has just started with `input` and has logged nothing
 * yet: idle, no usage, no events. `sessions.create` answers with it when no worker answers within one Query deadline
 * (a create that failed with a 504 instead would be retried by the client and make a second session).
 */
export function newSessionSummary(input: SessionWorkflowInput): SessionSummary {
  return {
    status: 'idle',
    usage: emptyUsage(),
    eventCount: 0,
    queuedMessages: 0,
    title: input.title,
    agent: input.agent,
    createdAt: input.createdAt,
    archivedAt: null,
    lastEvent: null,
    activeTime: noActiveTime(),
    awaiting: [],
    budget: input.budget ?? null,
    ...(input.listPrice === undefined ? {} : { listCost: toMonetaryAmount(0n) }),
  };
}

/**
 * The Workflow's view of a stored conversation, JSON-plain so it crosses continue-as-new: the reference, what was
 * added since the last model call, the tool calls of the last reply still without a result, and the token estimate.
 */
export interface StoredConversationState {
  ref: ConversationRef;
  additions: ConversationAddition[];
  /** `tool_use` ids of the last assistant reply that have no result yet. */
  unansweredToolUseIds: string[];
  /** Prompt tokens of the last model call as the model reported them (input, cache reads and writes) plus its output. */
  reportedTokens: number;
  /** Estimated tokens of the additions. */
  addedTokens: number;
}
