import { condition, isCancellation, patched, sleep } from '@temporalio/workflow';
import type { AgentSnapshot, ToolPermission } from '../common/agent';
import type { SessionEvent, SessionStatus, TextBlock } from '../common/events';
import type { McpToolDescriptor } from '../common/mcp';
import type { ToolOutput } from '../common/conversation';
import type { CallModelInput, CallModelResult } from '../common/model';
import { deniedToolText } from '../common/permission';
import type { AutoVerdict } from '../common/permission';
import type { BetaManagedAgentsAgentToolUseEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import type { SandboxEnvironment, SandboxFileMount } from '../common/sandbox';
import type {
  AwaitedToolCall,
  RepositoryCloneState,
  SessionLimits,
  SessionResourceRecord,
  SessionUsage,
} from '../common/session';
import { addUsage, emptyUsage, usageCounts, usageView } from '../common/session';
import { toMonetaryAmount } from '../common/list-price';
import type { BudgetLimit } from '../common/list-price';
import {
  callMcpTool,
  callModel,
  compactConversation,
  evaluatePermission,
  execute,
  listMcpTools,
  provisionSandbox,
  requestSelfHostedWork,
  storeConversation,
  webFetch,
  webSearch,
} from './activities';
import type { ConversationState } from './conversation-state';
import type { EventLog } from './event-log';
import { decideModelFailure } from './model-failures';
import { cloneAwaitingRepositories } from './clone-awaiting-repositories';
import { describeToolCall } from './tool-summary';
import { parseThreadToolInput } from './thread-tools';
import type { ThreadTools } from './thread-tools';
import { mcpServerAllowed, toolOffer, waitsForClient } from './tool-routing';
import type { ToolOffer, ToolRoute } from './tool-routing';
import {
  contextBudget,
  decideAfterModelFailure,
  decideAfterReply,
  decideBeforeModelCall,
  usageSnapshotDue,
} from './turn-rules';
import type { ContextBudget } from './turn-rules';

/** Patch of the sessions from before the conversation store: their next model call first moves it to the store. */
export const MOVE_CONVERSATION_TO_STORE_PATCH = 'keel-move-conversation-to-store';
/** Patch of the sessions that log `session.usage` snapshots; those recorded before it log none. */
export const SESSION_USAGE_EVENT_PATCH = 'keel-session-usage-event';
/**
 * Patch of the sessions whose compactions run inside the next `callModel` (a compaction then costs a few fields of the
 * step's record, not an Activity and a Workflow Task); runs recorded before it replay with `compactConversation`.
 */
export const COMPACTION_IN_MODEL_CALL_PATCH = 'keel-compaction-in-model-call';

/** The mutable state a turn works on; it belongs to the session Workflow and outlives the turn. */
export interface TurnContext {
  sessionId: string;
  agent: AgentSnapshot;
  limits: SessionLimits;
  /** The session's read-only file mounts, passed to every sandbox call so a replaced container has them too. */
  files: SandboxFileMount[];
  /** The session's environment snapshot (network, packages), passed with the files for the same reason. */
  environment: SandboxEnvironment;
  /** Vault ids whose credentials MCP calls may use. */
  vaultIds: string[];
  /** The session's workspace: MCP calls may use the credentials of its vaults only. */
  workspaceId: string;
  /** Set when the session's environment is self-hosted: its built-in tools run on that environment's workers. */
  selfHosted: { environmentId: string } | null;
  log: EventLog;
  /** The session's resources as the session object shows them (kept current by the resources Update). */
  resources: SessionResourceRecord[];
  /** The repositories waiting for a clone before the next sandbox tool call, and those whose clone failed. */
  repositoryClones: RepositoryCloneState;
  state: {
    /** The conversation the model sees: a reference into the conversation store and what is new. */
    conversation: ConversationState;
    usage: SessionUsage;
    status: SessionStatus;
    sandboxProvisioned: boolean;
    stepsThisRun: number;
    /** Tools each MCP server listed in this run, by server name; a server that failed is asked again next turn. */
    mcpTools: Map<string, McpToolDescriptor[]>;
    /** The system prompt a model call of this run stored, with its key: later calls name it instead of carrying it. */
    storedSystem: { text: string; key: string } | null;
    /** The session's budget (`sessions.create` / `sessions.update`); `null`: none. */
    budget: BudgetLimit | null;
    /** Set when a turn paused because the budget was reached; the next turn clears it. */
    budgetPaused: boolean;
  };
  /** The session's exact list cost in nano-dollars; `null` when some model it used has no list price. */
  listCostNano(): bigint | null;
  setStatus(status: SessionStatus): void;
  /**
   * Sets the status of the thread the turn runs in and logs it: `session.status_*` for a session's (primary) thread,
   * `session.thread_status_*` for a child thread; `stopReason` goes with `idle`.
   */
  enterStatus(status: 'running' | 'rescheduling' | 'idle', stopReason?: IdleStopReason): void;
  /** Set when the agent is a coordinator: the delegation tools (`spawn_agent`, `send_to_thread`) and how they run. */
  threads?: ThreadTools;
  /** Seconds the session has spent `running`, the current stretch included. */
  activeSeconds(): number;
  /** Whether the run should continue-as-new at the next safe point. */
  shouldContinueAsNew(): boolean;
}

/** Why a turn's thread went idle (`session.status_idle`'s `stop_reason`). */
export type IdleStopReason = Extract<SessionEvent, { type: 'session.status_idle' }>['stop_reason'];

/**
 * How a turn ended; `ended` is an `end_turn` whose idle the caller logs (`endTurn`), for a turn that works on an
 * outcome (the grader runs before the session goes idle); `next-turn` says the work goes on in a new turn at once (an
 * outcome's revision).
 */
export type TurnOutcome =
  | { kind: 'idle' }
  | { kind: 'continue-as-new'; stepsTaken: number }
  | { kind: 'interrupted' }
  | { kind: 'ended' }
  | { kind: 'next-turn' };

/** What the client answered for a tool call the session was blocked on. */
export type ToolCallResolution =
  | { kind: 'allow' }
  | { kind: 'deny'; message: string | null }
  | { kind: 'custom_result'; content: TextBlock[]; isError: boolean };

/** A tool call of the current step, from the model's `tool_use` block to its result. */
interface ToolCall {
  /** The model's `tool_use` id. */
  toolUseId: string;
  /** The id of the event that logged the call (`agent.tool_use`, `agent.custom_tool_use` or `agent.mcp_tool_use`). */
  eventId: string;
  route: ToolRoute | undefined;
  name: string;
  input: Record<string, unknown>;
  /** The `auto` policy's judgement, for a call under it. */
  verdict?: AutoVerdict;
  /** Set once a self-hosted worker's `user.tool_result` answered it: that event is its logged result. */
  answeredByWorker?: boolean;
}

/**
 * While a call routed to a self-hosted worker waits for its result, the Workflow checks this often that a work item
 * still serves the session (a worker that stopped, or whose lease ran out, is replaced by a new item).
 */
const SELF_HOSTED_RECHECK = '30 seconds';

/**
 * One turn of the harness: call the model; run each tool call (in the sandbox, in the worker, on an MCP server, or by
 * the client) and feed the results back; repeat until the model ends its turn. Calls that need the client (an
 * `always_ask` confirmation, a custom tool's result) make the session idle with `requires_action` until all of them
 * are resolved, however long that takes. It stops at a safe point (between steps) when the run should
 * continue-as-new.
 */
export class Turn {
  /** Calls logged whose result is not logged yet, by model tool-use id. */
  private readonly pending = new Map<string, ToolCall>();
  /** Calls waiting for the client, by event id, in the model's order; `null` until resolved. */
  private readonly awaiting = new Map<string, { call: ToolCall; resolution: ToolCallResolution | null }>();
  /**
   * Calls routed to the self-hosted environment's worker, by event id: registered as soon as the worker may run them
   * (its result can arrive before the Workflow starts waiting for it); `null` until its `user.tool_result` arrives.
   */
  private readonly remote = new Map<string, ToolOutput | null>();
  /** System text sent with tool answers, added after the answered calls' results. */
  private systemContext: TextBlock[] = [];
  /** The tools offered in this turn, and where each goes; the MCP servers' tools join once they are listed. */
  private offer: ToolOffer;
  /** The model's context window and when to compact. */
  private readonly budget: ContextBudget;

  constructor(
    private readonly context: TurnContext,
    private stepsTaken: number,
    /** With `holdEndTurn`, an `end_turn` returns `ended` without going idle (see `endTurn`). */
    private readonly options: { holdEndTurn?: boolean } = {},
  ) {
    this.offer = toolOffer(context.agent, context.state.mcpTools, context.threads?.agentNames);
    this.budget = contextBudget(context.agent.model, context.limits);
  }

  /** Runs the turn to its end; a cancellation (interrupt) propagates to the caller, who calls `interrupted`. */
  async run(): Promise<TurnOutcome> {
    const { log, limits, state } = this.context;
    await this.listMcpTools();
    for (;;) {
      await this.moveConversationToStore();
      const next = decideBeforeModelCall({
        stepsTaken: this.stepsTaken,
        maxStepsPerTurn: limits.maxStepsPerTurn,
        promptEstimate: state.conversation.promptEstimate(),
        budget: this.budget,
        canCompact: !state.conversation.isInline,
        spend: { budget: state.budget, listCostNano: this.context.listCostNano() },
      });
      if (next.kind === 'budget_reached') {
        state.budgetPaused = true;
        return this.idle({ type: 'budget_reached' });
      }
      if (next.kind === 'stop') {
        log.append({ type: 'session.error', error: { ...next.error, retry_status: { type: 'exhausted' } } });
        return this.idle({ type: 'retries_exhausted' });
      }
      let compactFirst = false;
      if (next.kind === 'compact') {
        if (patched(COMPACTION_IN_MODEL_CALL_PATCH)) compactFirst = true;
        else if (!(await this.compact())) return this.idle({ type: 'retries_exhausted' });
      }
      const reply = await this.callModelWithRetries(compactFirst);
      if (reply === null) return this.idle({ type: 'retries_exhausted' });
      this.stepsTaken += 1;
      this.context.state.stepsThisRun += 1;
      const calls = await this.recordModelReply(reply);
      if (decideAfterReply(reply.stopReason, calls.length) === 'end_turn') {
        return this.options.holdEndTurn === true ? { kind: 'ended' } : this.idle({ type: 'end_turn' });
      }
      await this.runTools(calls);
      if (usageSnapshotDue(this.stepsTaken)) this.snapshotUsage();
      if (this.context.shouldContinueAsNew()) return { kind: 'continue-as-new', stepsTaken: this.stepsTaken };
    }
  }

  /** Closes an interrupted turn: tool calls that never finished get an error result, and the session goes idle. */
  interrupted(): TurnOutcome {
    for (const call of [...this.pending.values()]) {
      this.recordResult(call, { output: 'Interrupted by the user.', isError: true });
    }
    this.awaiting.clear();
    this.remote.clear();
    this.idle({ type: 'end_turn' });
    return { kind: 'interrupted' };
  }

  /** The calls still waiting for the client, in the model's order. */
  awaitedCalls(): AwaitedToolCall[] {
    return [...this.awaiting.values()]
      .filter((entry) => entry.resolution === null)
      .map(({ call }) => ({
        eventId: call.eventId,
        resolvedBy: call.route?.kind === 'custom' ? 'user.custom_tool_result' : 'user.tool_confirmation',
      }));
  }

  /** Every call an answer may resolve now: those the client must answer, then those a self-hosted worker runs. */
  answerableCalls(): AwaitedToolCall[] {
    const remote = [...this.remote.entries()]
      .filter(([, output]) => output === null)
      .map(([eventId]) => ({ eventId, resolvedBy: 'user.tool_result' as const }));
    return [...this.awaitedCalls(), ...remote];
  }

  /** Records a self-hosted worker's result of a call (already checked with `checkResolvable`). */
  resolveRemote(eventId: string, output: ToolOutput): void {
    if (this.remote.get(eventId) === null) this.remote.set(eventId, output);
  }

  /** Why `resolvedBy` cannot resolve the call logged as `eventId` now, or `null` when it can. */
  checkResolvable(eventId: string, resolvedBy: AwaitedToolCall['resolvedBy']): string | null {
    if (resolvedBy === 'user.tool_result') {
      return this.remote.get(eventId) === null
        ? null
        : `No tool call ${eventId} of this session waits for a self-hosted worker's result.`;
    }
    const waiting = this.awaitedCalls().find((call) => call.eventId === eventId);
    if (waiting === undefined) return `No tool call ${eventId} is waiting for the client.`;
    if (waiting.resolvedBy !== resolvedBy)
      return `Tool call ${eventId} waits for ${waiting.resolvedBy}, not ${resolvedBy}.`;
    return null;
  }

  /**
   * Keeps the text of a `system.message` sent with a tool answer: it joins the conversation right after the results
   * of the calls the turn waited for, before the next model call.
   */
  addSystemContext(content: TextBlock[]): void {
    this.systemContext.push(...content);
  }

  /** Records the client's answer (already checked); while others still wait, the session re-emits idle with them. */
  resolve(eventId: string, resolution: ToolCallResolution): void {
    const entry = this.awaiting.get(eventId);
    if (entry === undefined || entry.resolution !== null) return;
    entry.resolution = resolution;
    // A self-hosted worker runs an allowed call as soon as it sees the confirmation.
    if (resolution.kind === 'allow' && this.runsOnWorker(entry.call)) this.remote.set(eventId, null);
    const remaining = this.awaitedCalls();
    if (remaining.length > 0) this.requiresAction(remaining);
  }

  /** Ends a turn that returned `ended`: the session goes idle with `end_turn`. */
  endTurn(): TurnOutcome {
    return this.idle({ type: 'end_turn' });
  }

  private idle(stopReason: IdleStopReason): TurnOutcome {
    this.snapshotUsage();
    this.context.enterStatus('idle', stopReason);
    return { kind: 'idle' };
  }

  /** Logs `session.usage`, the session's cumulative usage now (sessions started before it log none). */
  private snapshotUsage(): void {
    if (!patched(SESSION_USAGE_EVENT_PATCH)) return;
    const { log, state } = this.context;
    const cost = this.context.listCostNano();
    const listCost = cost === null ? undefined : toMonetaryAmount(cost);
    log.append({
      type: 'session.usage',
      usage: usageView(state.usage, this.context.activeSeconds(), listCost),
      budget: state.budget,
    });
  }

  private requiresAction(calls: AwaitedToolCall[]): void {
    this.idle({ type: 'requires_action', event_ids: calls.map((call) => call.eventId) });
  }

  /**
   * Asks each MCP server of the agent that has not listed its tools in this run for them. A server that is down,
   * refuses the credential or is outside the environment's networking logs `session.error` and the turn goes on
   * without its tools.
   */
  private async listMcpTools(): Promise<void> {
    const { agent, state, log, sessionId, vaultIds, workspaceId, environment } = this.context;
    for (const toolset of agent.mcpToolsets ?? []) {
      const { server } = toolset;
      if (state.mcpTools.has(server.name)) continue;
      const blocked = mcpServerAllowed(environment.networking, server.url);
      const listed =
        blocked === null
          ? await listMcpTools({ sessionId, server, vaultIds, workspaceId }).catch((error: unknown) => {
              // Retries used up (a lost worker, a credential store that keeps failing): the turn goes on without it.
              if (isCancellation(error)) throw error;
              return {
                ok: false as const,
                error: { type: 'mcp_connection_failed_error' as const, message: failureText(error) },
              };
            })
          : { ok: false as const, error: { type: 'mcp_connection_failed_error' as const, message: blocked } };
      if (listed.ok) {
        state.mcpTools.set(server.name, listed.tools);
        continue;
      }
      log.append({
        type: 'session.error',
        error: {
          type: listed.error.type,
          mcp_server_name: server.name,
          message: listed.error.message,
          // The turn goes on without this server's tools: not `exhausted`, which the SDK documents as a dead turn.
          retry_status: { type: 'retrying' },
        },
      });
    }
    this.offer = toolOffer(agent, state.mcpTools, this.context.threads?.agentNames);
  }

  /** The agent's system prompt for a model call: by its key once a call of this run stored it, else inline. */
  private systemPrompt(): Pick<CallModelInput, 'system' | 'systemKey'> {
    const { agent, state } = this.context;
    const stored = state.storedSystem;
    if (agent.system !== null && stored !== null && stored.text === agent.system) {
      return { system: null, systemKey: stored.key };
    }
    return { system: agent.system };
  }

  /**
   * Calls the model, retrying retryable failures with durable timers and compacting once when the model refuses the
   * prompt as too long; `null` when the turn cannot go on (attempts used up, or no room even after compaction). With
   * `compactFirst`, the call compacts the conversation before it asks the model (in the same Activity).
   */
  private async callModelWithRetries(compactFirst = false): Promise<CallModelResult | null> {
    const { log, agent, state, limits, sessionId } = this.context;
    const offer = this.offer;
    let compactedForThisCall = false;
    let compactNext = compactFirst;
    for (let attempt = 1; ; attempt++) {
      const start = log.append({ type: 'span.model_request_start' });
      const messageEventId = log.reserveId();
      const thinkingEventId = agent.thinking === undefined ? undefined : log.reserveId();
      const compacting = compactNext;
      try {
        const result = await callModel(
          {
            sessionId,
            messageEventId,
            model: agent.model,
            ...this.systemPrompt(),
            maxTokens: agent.maxTokens,
            ...state.conversation.modelInput(),
            toolNames: offer.builtInNames,
            ...(offer.extraTools.length === 0 ? {} : { extraTools: offer.extraTools }),
            ...(agent.thinking === undefined ? {} : { thinking: agent.thinking, thinkingEventId }),
            ...(compacting ? { compact: this.compactionSettings() } : {}),
          },
          // The step within this run (the Temporal UI shows one run at a time): a label of the same size however
          // long the session runs, so the history per step stays flat.
          `model ${agent.model} step ${state.stepsThisRun + 1}${attempt > 1 ? ` attempt ${attempt}` : ''}${compacting ? ' compacting' : ''}`,
        );
        const callStartId = result.compaction === undefined ? start.id : this.recordCompaction(start.id, result);
        this.recordModelUsage(callStartId, messageEventId, result, thinkingEventId);
        if (result.systemKey !== undefined && agent.system !== null) {
          state.storedSystem = { text: agent.system, key: result.systemKey };
        }
        return result;
      } catch (error) {
        this.failedModelRequest(start.id);
        if (isCancellation(error)) throw error;
        if (compacting) compactedForThisCall = true;
        const decision = decideModelFailure(error, attempt);
        const next = decideAfterModelFailure({
          decision,
          promptTooLong: decision.promptTooLong,
          attempt,
          maxAttempts: limits.maxModelAttempts,
          compactedForThisCall,
          canCompact: !state.conversation.isInline,
        });
        if (next.kind === 'compact_and_retry') {
          attempt -= 1;
          if (patched(COMPACTION_IN_MODEL_CALL_PATCH)) {
            compactNext = true;
            continue;
          }
          compactedForThisCall = true;
          if (!(await this.compact())) return null;
          continue;
        }
        if (next.kind === 'give_up' && next.errorType === 'compaction_limit_reached_error') {
          this.compactionLimitReached(
            decision.cannotCompact
              ? decision.error.message
              : `The model refused the prompt after compaction: ${decision.error.message}`,
          );
          return null;
        }
        log.append({
          type: 'session.error',
          error: { ...decision.error, retry_status: { type: next.kind === 'retry' ? 'retrying' : 'exhausted' } },
        });
        if (next.kind !== 'retry') return null;
        this.context.enterStatus('rescheduling');
        await sleep(next.delayMs);
        this.context.enterStatus('running');
      }
    }
  }

  /**
   * Moves the conversation of a session from before the conversation store into it (once, before its next model
   * call); the patch keeps the histories recorded before it replaying as they ran.
   */
  private async moveConversationToStore(): Promise<void> {
    const { state, sessionId } = this.context;
    if (!state.conversation.isInline || !patched(MOVE_CONVERSATION_TO_STORE_PATCH)) return;
    const ref = await storeConversation({ sessionId, messages: state.conversation.inlineMessages });
    state.conversation.moveToStore(ref);
  }

  /** How this turn's compactions cut the conversation. */
  private compactionSettings(): NonNullable<CallModelInput['compact']> {
    return { contextWindowTokens: this.budget.contextWindowTokens, keepRecentTokens: this.budget.keepRecentTokens };
  }

  /**
   * Logs the compaction a model call made first: its summarising calls close the span `startId` opened, then
   * `agent.thread_context_compacted`, then the span of the call itself opens (its id returned). Both ran in one
   * Activity, so the second span starts when the first ends.
   */
  private recordCompaction(startId: string, result: CallModelResult): string {
    const { log } = this.context;
    const compaction = result.compaction;
    if (compaction === undefined) return startId;
    this.addUsage(compaction.usage);
    log.append({
      type: 'span.model_request_end',
      model_request_start_id: startId,
      is_error: false,
      model_usage: usageCounts(compaction.usage),
    });
    log.append({ type: 'agent.thread_context_compacted', pre_compaction_tokens: compaction.preCompactionTokens });
    return log.append({ type: 'span.model_request_start' }).id;
  }

  /**
   * Compacts the conversation in an Activity of its own (runs from before `COMPACTION_IN_MODEL_CALL_PATCH`; newer ones
   * compact inside `callModel`): a model call summarises the older part, the recent turns stay verbatim, and the log
   * gets `agent.thread_context_compacted`. `false` when compaction cannot make room: then `session.error`
   * `compaction_limit_reached_error` is logged and what the model has not seen yet is left out, so the next message
   * works.
   */
  private async compact(): Promise<boolean> {
    const { log, agent, state, sessionId } = this.context;
    const start = log.append({ type: 'span.model_request_start' });
    const { conversation, additions } = state.conversation.modelInput();
    let result;
    try {
      result = await compactConversation({
        sessionId,
        conversation: conversation ?? { head: null },
        additions: additions ?? [],
        request: {
          model: agent.model,
          system: agent.system,
          maxTokens: agent.maxTokens,
          toolNames: this.offer.builtInNames,
          ...(this.offer.extraTools.length === 0 ? {} : { extraTools: this.offer.extraTools }),
        },
        contextWindowTokens: this.budget.contextWindowTokens,
        keepRecentTokens: this.budget.keepRecentTokens,
      });
    } catch (error) {
      this.failedModelRequest(start.id);
      if (isCancellation(error)) throw error;
      const decision = decideModelFailure(error, 1);
      log.append({ type: 'session.error', error: { ...decision.error, retry_status: { type: 'exhausted' } } });
      return false;
    }
    if (!result.ok) {
      this.failedModelRequest(start.id);
      this.compactionLimitReached(result.reason);
      return false;
    }
    this.addUsage(result.usage);
    log.append({
      type: 'span.model_request_end',
      model_request_start_id: start.id,
      is_error: false,
      model_usage: usageCounts(result.usage),
    });
    state.conversation.acceptCompaction(result.conversation, result.postCompactionTokens);
    log.append({ type: 'agent.thread_context_compacted', pre_compaction_tokens: result.preCompactionTokens });
    return true;
  }

  /** Logs `compaction_limit_reached_error` and leaves out what the model has not seen, so the next message works. */
  private compactionLimitReached(reason: string): void {
    this.context.state.conversation.leaveOutAdditions();
    this.context.log.append({
      type: 'session.error',
      error: { type: 'compaction_limit_reached_error', message: reason, retry_status: { type: 'exhausted' } },
    });
  }

  /** Closes the span of a model request that failed. */
  private failedModelRequest(startId: string): void {
    this.context.log.append({
      type: 'span.model_request_end',
      model_request_start_id: startId,
      is_error: true,
      model_usage: emptyUsage(),
    });
  }

  private addUsage(usage: Parameters<typeof usageCounts>[0]): void {
    addUsage(this.context.state.usage, usageCounts(usage));
  }

  private recordModelUsage(
    startId: string,
    messageEventId: string,
    result: CallModelResult,
    thinkingEventId: string | undefined,
  ): void {
    const { log, state } = this.context;
    this.addUsage(result.usage);
    log.append({
      type: 'span.model_request_end',
      model_request_start_id: startId,
      is_error: false,
      model_usage: usageCounts(result.usage),
    });
    state.conversation.acceptReply(result);
    if (result.content.some((block) => block.type === 'thinking' || block.type === 'redacted_thinking')) {
      log.append({ type: 'agent.thinking', ...(thinkingEventId === undefined ? {} : { id: thinkingEventId }) });
    }
    const text = result.content.flatMap((block) =>
      block.type === 'text' ? [{ type: 'text' as const, text: block.text }] : [],
    );
    if (text.length > 0) log.append({ type: 'agent.message', id: messageEventId, content: text });
  }

  /**
   * Logs each tool call of the reply, with the permission evaluated for it, before any of them runs. A call under the
   * `auto` policy is judged first (`evaluatePermission`); when the judge cannot answer, the call waits for the user.
   */
  private async recordModelReply(reply: CallModelResult): Promise<ToolCall[]> {
    const { log } = this.context;
    const { routes } = this.offer;
    const calls: ToolCall[] = [];
    for (const block of reply.content) {
      if (block.type !== 'tool_use') continue;
      const input = (block.input ?? {}) as Record<string, unknown>;
      const route = routes.get(block.name);
      const verdict =
        route !== undefined && route.kind !== 'custom' && route.kind !== 'thread' && route.permission === 'auto'
          ? await this.judge(route.kind === 'mcp' ? route.toolName : block.name, input)
          : undefined;
      // A delegation call is logged when it runs, as the `agent.thread_message_sent` whose id it reserves now.
      const event =
        route?.kind === 'thread'
          ? { id: log.reserveId() }
          : route?.kind === 'custom'
            ? log.append({ type: 'agent.custom_tool_use', name: block.name, input })
            : route?.kind === 'mcp'
              ? log.append({
                  type: 'agent.mcp_tool_use',
                  name: route.toolName,
                  mcp_server_name: route.server.name,
                  input,
                  ...permissionFields(route.permission, verdict),
                })
              : log.append({
                  type: 'agent.tool_use',
                  name: block.name,
                  input,
                  ...(route === undefined
                    ? { evaluated_permission: 'deny' as const }
                    : permissionFields(route.permission, verdict)),
                });
      const call: ToolCall = {
        toolUseId: block.id,
        eventId: event.id,
        route,
        name: block.name,
        input,
        ...(verdict && { verdict }),
      };
      this.pending.set(block.id, call);
      // The worker runs a call logged as allowed at once: its result may come before this turn waits for it.
      if (this.runsOnWorker(call) && !waitsForClient(route, verdict) && verdict?.type !== 'deny') {
        this.remote.set(call.eventId, null);
      }
      calls.push(call);
    }
    return calls;
  }

  /** The `auto` policy's judgement of one call; `ask` when the judge fails (retries used up), so a person decides. */
  private async judge(toolName: string, input: Record<string, unknown>): Promise<AutoVerdict> {
    const { sessionId, agent, state } = this.context;
    const stored = state.conversation.modelInput().conversation;
    try {
      const { usage, ...verdict } = await evaluatePermission({
        sessionId,
        model: agent.model,
        conversation: stored ?? null,
        toolName,
        input,
      });
      // The classifier's call is consumption of the session's model: it counts toward the list cost and a budget.
      if (usage !== undefined) this.addUsage(usage);
      return verdict;
    } catch (error) {
      if (isCancellation(error)) throw error;
      return { type: 'ask', reason_code: 'indeterminate' };
    }
  }

  /**
   * Runs the calls that need nobody, in the model's order; then, when some wait for the client, goes idle with
   * `requires_action` until every one of them is resolved, and finishes them in the model's order.
   */
  private async runTools(calls: ToolCall[]): Promise<void> {
    for (const call of calls) {
      if (!waitsForClient(call.route, call.verdict)) await this.runCall(call);
    }
    const blocked = calls.filter((call) => waitsForClient(call.route, call.verdict));
    if (blocked.length === 0) return;
    for (const call of blocked) this.awaiting.set(call.eventId, { call, resolution: null });
    this.requiresAction(this.awaitedCalls());
    await condition(() => this.awaitedCalls().length === 0);
    this.context.enterStatus('running');
    for (const { call, resolution } of [...this.awaiting.values()]) {
      if (resolution === null || resolution.kind === 'allow') await this.runCall(call);
      else if (resolution.kind === 'deny') {
        const reason = resolution.message ? `: ${resolution.message}` : '.';
        this.recordResult(call, { output: `The user denied this tool call${reason}`, isError: true });
      } else {
        this.recordResult(call, {
          output: resolution.content.map((block) => block.text).join('\n'),
          isError: resolution.isError,
        });
      }
    }
    this.awaiting.clear();
    if (this.systemContext.length > 0) {
      this.context.state.conversation.addSystemText(this.systemContext);
      this.systemContext = [];
    }
  }

  /** Runs one call where its route says and records its result. */
  private async runCall(call: ToolCall): Promise<void> {
    const { route } = call;
    if (route === undefined) {
      this.recordResult(call, {
        output: `Unknown tool: ${call.name}. It is not enabled for this agent.`,
        isError: true,
      });
      return;
    }
    if (call.verdict?.type === 'deny') {
      const name = route.kind === 'mcp' ? route.toolName : call.name;
      this.recordResult(call, { output: deniedToolText(name), isError: true });
      return;
    }
    try {
      this.recordResult(call, await this.execute(call, route));
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.recordResult(call, { output: `The tool could not run: ${failureText(error)}`, isError: true });
    }
  }

  private async execute(call: ToolCall, route: ToolRoute): Promise<ToolOutput> {
    const { sessionId, state, files, environment, vaultIds, agent, log } = this.context;
    switch (route.kind) {
      case 'sandbox': {
        if (this.runsOnWorker(call)) return this.runOnWorker(call);
        // Vault ids go only when there are some, so the inputs of sessions without vaults stay as they were.
        const vaults = vaultIds.length === 0 ? {} : { vaultIds, workspaceId: this.context.workspaceId };
        if (!state.sandboxProvisioned) {
          await provisionSandbox({ sessionId, files, environment, ...vaults });
          state.sandboxProvisioned = true;
        }
        await cloneAwaitingRepositories(this.context);
        // Files and environment go with every call (a replaced container needs them), but only when not the defaults.
        return execute(
          {
            sessionId,
            name: route.name,
            input: call.input,
            outputName: call.toolUseId,
            ...(files.length === 0 ? {} : { files }),
            ...(isDefaultEnvironment(environment) ? {} : { environment }),
            ...vaults,
          },
          describeToolCall(route.name, call.input),
        );
      }
      case 'web_fetch': {
        const url = call.input['url'];
        if (typeof url !== 'string') return { output: 'web_fetch needs a string "url".', isError: true };
        return webFetch({
          sessionId,
          url,
          networking: environment.networking,
          ...(agent.webFetch?.allowedDomains ? { allowedDomains: agent.webFetch.allowedDomains } : {}),
          ...(agent.webFetch?.blockedDomains ? { blockedDomains: agent.webFetch.blockedDomains } : {}),
        });
      }
      case 'web_search': {
        const query = call.input['query'];
        if (typeof query !== 'string') return { output: 'web_search needs a string "query".', isError: true };
        return webSearch({
          sessionId,
          query,
          ...(agent.webSearch?.allowedDomains ? { allowedDomains: agent.webSearch.allowedDomains } : {}),
          ...(agent.webSearch?.blockedDomains ? { blockedDomains: agent.webSearch.blockedDomains } : {}),
        });
      }
      case 'mcp': {
        const result = await callMcpTool({
          sessionId,
          server: route.server,
          vaultIds,
          workspaceId: this.context.workspaceId,
          toolName: route.toolName,
          input: call.input,
        });
        if (result.ok) {
          return { output: result.content.map((block) => block.text).join('\n'), isError: result.isError };
        }
        log.append({
          type: 'session.error',
          error: {
            type: result.error.type,
            mcp_server_name: route.server.name,
            message: result.error.message,
            // The turn goes on: the model gets the failure as the tool's result.
            retry_status: { type: 'retrying' },
          },
        });
        return { output: result.error.message, isError: true };
      }
      case 'custom':
        return { output: 'The custom tool call got no result.', isError: true };
      case 'thread': {
        const { threads } = this.context;
        if (threads === undefined) return { output: `Unknown tool: ${call.name}.`, isError: true };
        const request = parseThreadToolInput(route.tool, call.input, threads.agentNames);
        if (request.kind === 'invalid') return { output: request.message, isError: true };
        return threads.run(request, call.eventId);
      }
    }
  }

  /** Whether the call is a built-in tool call that the session's self-hosted environment runs. */
  private runsOnWorker(call: ToolCall): boolean {
    return this.context.selfHosted !== null && call.route?.kind === 'sandbox';
  }

  /**
   * Waits, durably, for a self-hosted worker's result of the call: a work item is queued for the session (kept while
   * a worker holds it; replaced when its lease runs out or it stops before the result came), and the worker posts the
   * result as a `user.tool_result`, which is the call's logged result.
   */
  private async runOnWorker(call: ToolCall): Promise<ToolOutput> {
    const { sessionId, selfHosted } = this.context;
    if (selfHosted === null) throw new Error('runOnWorker needs a self-hosted environment');
    if (!this.remote.has(call.eventId)) this.remote.set(call.eventId, null);
    const answered = (): boolean => this.remote.get(call.eventId) != null;
    while (!answered()) {
      await requestSelfHostedWork({ environmentId: selfHosted.environmentId, sessionId });
      await condition(answered, SELF_HOSTED_RECHECK);
    }
    const output = this.remote.get(call.eventId) as ToolOutput;
    this.remote.delete(call.eventId);
    call.answeredByWorker = true;
    return output;
  }

  /**
   * Logs a call's result and adds it to the conversation. A custom tool's result is already in the log (the
   * client's `user.custom_tool_result`), so only the conversation gets it.
   */
  private recordResult(call: ToolCall, result: ToolOutput): void {
    const { log, state } = this.context;
    // A stored output's text is filled in by the server from the blob store; the history holds its key.
    const text = result.contentKey !== undefined ? '' : result.output.length > 0 ? result.output : '(no output)';
    if (call.route?.kind === 'mcp') {
      log.append(
        {
          type: 'agent.mcp_tool_result',
          mcp_tool_use_id: call.eventId,
          content: [{ type: 'text', text }],
          is_error: result.isError,
        },
        result.contentKey,
      );
    } else if (call.route?.kind !== 'custom' && call.route?.kind !== 'thread' && call.answeredByWorker !== true) {
      log.append(
        {
          type: 'agent.tool_result',
          tool_use_id: call.eventId,
          content: [{ type: 'text', text }],
          is_error: result.isError,
        },
        result.contentKey,
      );
    }
    state.conversation.addToolResult(call.toolUseId, result);
    this.pending.delete(call.toolUseId);
  }
}

/** The permission fields of a tool-use event: what the policy (and, for `auto`, its judge) decided. */
function permissionFields(
  permission: ToolPermission,
  verdict: AutoVerdict | undefined,
): Pick<BetaManagedAgentsAgentToolUseEvent, 'evaluated_permission' | 'evaluation'> {
  if (permission === 'auto') {
    const judged = verdict ?? { type: 'ask', reason_code: 'indeterminate' };
    return { evaluated_permission: judged.type, evaluation: { type: 'auto', evaluated_permission: judged } };
  }
  return { evaluated_permission: permission === 'always_allow' ? 'allow' : 'ask', evaluation: { type: permission } };
}

/** The message of an Activity failure: its cause's, which says what went wrong in the Activity. */
function failureText(error: unknown): string {
  return error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
}

function isDefaultEnvironment(environment: SandboxEnvironment): boolean {
  return JSON.stringify(environment) === JSON.stringify(DEFAULT_SANDBOX_ENVIRONMENT);
}
