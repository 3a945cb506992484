import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  log as workflowLog,
  makeContinueAsNewFunc,
  patched,
  proxySinks,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { SessionStatus } from '../common/events';
import type { LiveEventSinks } from '../common/live-events';
import { ID_PREFIXES } from '../common/ids';
import { activeSeconds, afterStatus, noActiveTime } from '../common/active-time';
import { applySessionUpdate, budgetUpdateProblem } from './session-update';
import { budgetReached, sameBudget, sessionListCostNano, toMonetaryAmount } from '../common/list-price';
import {
  applyResourceChange,
  fileMounts,
  initialRepositoryClones,
  noRepositoryClones,
  repositoryClonesAfterChange,
  resourceChangeProblem,
} from './session-resources';
import { cloneAwaitingRepositories } from './clone-awaiting-repositories';
import { toolResultText } from './self-hosted-results';
import type {
  AwaitedToolCall,
  CustomToolResultInput,
  QueuedMessage,
  SessionCarryOver,
  SessionResourceChange,
  SessionResourceRecord,
  SessionSummary,
  SessionWorkflowInput,
  SessionWorkflowResult,
  ToolConfirmationInput,
  ToolResultInput,
  UpdateSessionInput,
  UserInterruptSignalInput,
  UserMessageSignalInput,
} from '../common/session';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import { addUsage, emptyUsage } from '../common/session';
import { SESSION_LISTING_MEMO_KEY, sessionListingOf, toSessionListing } from '../common/session-listing';
import { EVENT_ARCHIVE_FORMAT } from '../common/events';
import type { EventArchiveRef } from '../common/events';
import {
  archiveEvents,
  archiveRunIndexed,
  destroySandbox,
  provisionSandbox,
  stopIdleSandbox,
  writeArchiveIndex,
} from './activities';
import { sandboxIdleStopAfterMs } from './sandbox-lifecycle';
import { ConversationState } from './conversation-state';
import { EventLog } from './event-log';
import {
  archiveSessionUpdate,
  archiveThreadUpdate,
  threadReportSignal,
  sessionResourcesUpdate,
  customToolResultUpdate,
  defineOutcomeUpdate,
  deliverInitialEventsSignal,
  endSessionSignal,
  getEventsQuery,
  getSessionQuery,
  interruptSessionSignal,
  sendMessageSignal,
  toolConfirmationUpdate,
  toolResultUpdate,
  updateSessionUpdate,
} from './messages';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { workspaceOfMemo } from '../common/workspace';
import { Turn } from './turn';
import { SessionThreads } from './session-threads';
import { primaryThreadId } from '../common/multiagent';
import type { ThreadAnswerInput } from '../common/multiagent';
import { logClientAnswer, resolveClientAnswer, resolvedByOf } from './client-answers';
import type { TurnContext } from './turn';
import { SessionOutcomes } from './session-outcomes';
import type { DefineOutcomeInput } from '../common/outcome';

const { liveEvents } = proxySinks<LiveEventSinks>();

/** How many sent event ids a run remembers to drop re-sent Signals. */
const SEEN_EVENT_IDS_KEPT = 1_000;
const DEFAULT_EVENTS_PAGE = 1_000;

/** Patch of runs that fold archive references into index pages; runs recorded before it carried the whole list. */
export const ARCHIVE_INDEX_PATCH = 'keel-event-archive-index';

/** How many archive references a run carries before they are folded into an index page. */
const ARCHIVE_REFS_CARRIED = 8;

/**
 * Patch of runs that archive and index their events in one Activity and carry one index key, so every run's history
 * has the same size; runs recorded before it carried up to `ARCHIVE_REFS_CARRIED` references and folded them later.
 */
export const ARCHIVE_EACH_RUN_INDEXED_PATCH = 'keel-event-archive-indexed-each-run';

/** Patch of sessions that start with a stored conversation; those recorded before it keep theirs inline. */
export const STORED_CONVERSATION_PATCH = 'keel-stored-conversation';
/** Patch of runs that archive their events before continuing-as-new; earlier runs are read by a query. */
export const EVENT_ARCHIVE_PATCH = 'keel-event-archive';
/** Sessions started before it never stop an idle sandbox: their idle waits schedule no timer. */
export const SANDBOX_IDLE_STOP_PATCH = 'keel-sandbox-idle-stop';
/** Sessions started before it log no `session.updated`, so their replayed positions stay as they were. */
export const SESSION_UPDATED_EVENT_PATCH = 'keel-session-updated-event';
/** Sessions that ended before it have `session.status_terminated` as their last event, and no `session.deleted`. */
export const SESSION_DELETED_EVENT_PATCH = 'keel-session-deleted-event';
/**
 * Sessions started before it publish no listing (`SessionListing`) to their memo: `sessions.list` retrieves them one
 * by one. From it on, the Workflow publishes its listing at start, at each status change, update, archive and end.
 */
export const SESSION_LISTING_PATCH = 'keel-session-listing-memo';

/** Events after which the session's listing is published: the status changes of a turn. */
const LISTED_STATUS_EVENTS: ReadonlySet<string> = new Set([
  'session.status_running',
  'session.status_idle',
  'session.status_rescheduled',
]);

/** The conversation a run starts with: carried over (stored, or inline from an older run), or a new one. */
function initialConversation(carry: SessionCarryOver | undefined): ConversationState {
  if (carry?.conversation !== undefined) return ConversationState.stored(carry.conversation);
  if (carry?.messages !== undefined) return ConversationState.inline(carry.messages);
  if (carry !== undefined) return ConversationState.empty();
  return patched(STORED_CONVERSATION_PATCH) ? ConversationState.empty() : ConversationState.inline([]);
}

/**
 * The session: one Workflow per session (Workflow ID = session id), whose history is the durable log. It takes user
 * events by Signal, runs turns one at a time in the order messages arrived, and continues-as-new at safe points.
 */
export async function sessionWorkflow(input: SessionWorkflowInput): Promise<SessionWorkflowResult> {
  const carry = input.carryOver;
  /** Whether the sandbox was stopped for idling: its workspace volume is then removed when the session ends. */
  let workspaceKept = carry?.workspaceKept ?? false;
  const info = workflowInfo();
  const log = new EventLog(
    carry?.firstPosition ?? 0,
    {
      newEventId: () => `${ID_PREFIXES.event}${uuid4().replace(/-/g, '')}`,
      now: () => new Date().toISOString(),
      onAppend: (events) => {
        liveEvents.appended(events);
        if (events.some((entry) => LISTED_STATUS_EVENTS.has(entry.event.type))) publishListing();
      },
    },
    carry?.carriedEvents ?? [],
  );
  const queue: QueuedMessage[] = carry?.queue ?? [];
  const seenEventIds = new Set(carry?.seenEventIds ?? []);
  const archives: EventArchiveRef[] = carry?.archives ?? [];
  const archiveIndexKey = carry?.archiveIndexKey ?? null;
  let turnInProgress = carry?.turnInProgress ?? null;
  let firstMessageText = carry?.firstMessageText ?? null;
  let title = carry?.title ?? input.title;
  let archivedAt = carry?.archivedAt ?? null;
  let activeTime = carry?.activeTime ?? noActiveTime();
  const resources = (workflowInfo().memo?.['resources'] ?? []) as SessionResourceRecord[];
  let ended = false;
  let turnScope: CancellationScope | null = null;
  let currentTurn: Turn | null = null;
  /** Set while the coordinator's turn has ended but its threads still run: the session stays `running`. */
  let idleHeld = carry?.idleHeld ?? false;
  let threads: SessionThreads | null = null;

  const context: TurnContext = {
    sessionId: input.sessionId,
    agent: input.agent,
    limits: input.limits,
    files: input.files ?? [],
    environment: input.environment ?? DEFAULT_SANDBOX_ENVIRONMENT,
    vaultIds: input.vaultIds ?? [],
    workspaceId: workspaceOfMemo(workflowInfo().memo),
    selfHosted: input.selfHosted ?? null,
    log,
    resources,
    // A new session clones all its repositories; a run from before repositories existed has none.
    repositoryClones: carry?.repositoryClones ?? initialRepositoryClones(carry === undefined ? resources : []),
    state: {
      conversation: initialConversation(carry),
      usage: carry?.usage ?? emptyUsage(),
      status: carry?.status ?? 'idle',
      sandboxProvisioned: carry?.sandboxProvisioned ?? false,
      stepsThisRun: 0,
      mcpTools: new Map(),
      storedSystem: null,
      budget: carry === undefined ? (input.budget ?? null) : (carry.budget ?? null),
      budgetPaused: carry?.budgetPaused ?? false,
    },
    // Every model call of a session (its turns, compactions, grader and permission judge) runs the agent's model, at
    // the price the session was created with.
    listCostNano: () =>
      input.listPrice === undefined
        ? null
        : sessionListCostNano({ [context.agent.model]: context.state.usage }, () => input.listPrice ?? null),
    setStatus: (status: SessionStatus) => {
      if (context.state.status === status) return;
      context.state.status = status;
      activeTime = afterStatus(activeTime, status, Date.now());
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
    },
    enterStatus: (status, reason) => {
      let stopReason = reason;
      // A coordinator that ended its turn while its threads work, or with their replies queued, keeps the session
      // running: it goes idle when the last of them is done (the main loop); then it waits for the client when some
      // thread's calls do.
      if (status === 'idle' && stopReason?.type === 'end_turn' && threads !== null) {
        if (threads.busy() || queue.length > 0) {
          idleHeld = true;
          return;
        }
        const waiting = threads.awaiting();
        if (waiting.length > 0)
          stopReason = { type: 'requires_action', event_ids: waiting.map((call) => call.eventId) };
      }
      context.setStatus(status);
      if (status === 'running') log.append({ type: 'session.status_running' });
      else if (status === 'rescheduling') log.append({ type: 'session.status_rescheduled' });
      else
        log.append({
          type: 'session.status_idle',
          stop_reason: stopReason ?? { type: 'end_turn' },
          stop_details: null,
        });
    },
    activeSeconds: () => activeSeconds(activeTime, Date.now()),
    shouldContinueAsNew: () =>
      workflowInfo().continueAsNewSuggested || context.state.stepsThisRun >= input.limits.continueAsNewAfterSteps,
  };

  if (input.callableAgents !== undefined && input.callableAgents.length > 0) {
    threads = new SessionThreads(
      {
        log,
        callableAgents: input.callableAgents,
        threadInput: () => ({
          sessionId: input.sessionId,
          primaryThreadId: primaryThreadId(input.sessionId),
          parentWorkflowId: info.workflowId,
          limits: input.limits,
          files: context.files,
          environment: context.environment,
          vaultIds: context.vaultIds,
          workspaceId: context.workspaceId,
        }),
        addUsage: (delta) => addUsage(context.state.usage, delta),
        // An archived session takes no new input: a thread's reply is logged, and the coordinator does not run on it.
        deliver: (message) => {
          if (archivedAt === null) queue.push(message);
        },
        sandboxShared: () => {
          context.state.sandboxProvisioned = true;
        },
        // A thread's wait changed while the session is idle (answered in part): a new idle names what still waits.
        waitingChanged: () => {
          if (turnScope !== null || context.state.status !== 'idle' || idleHeld) return;
          if ((threads?.awaiting().length ?? 0) > 0) context.enterStatus('idle', { type: 'end_turn' });
        },
        // The client answered a child thread that held the session idle: the session runs again until it is done.
        resumed: () => {
          if (turnScope !== null || context.state.status === 'running') return;
          idleHeld = true;
          context.enterStatus('running');
        },
      },
      carry?.threads,
    );
    context.threads = threads;
  }

  const outcomes = new SessionOutcomes(carry?.outcomes ?? [], context, () => publishListing(), {
    archives,
    archiveIndexKey,
  });

  const takeMessage = ({ id, content, system }: UserMessageSignalInput): void => {
    if (ended || archivedAt !== null || seenEventIds.has(id)) return;
    remember(seenEventIds, id);
    log.append({ type: 'user.message', id, content });
    if (system === undefined) queue.push({ eventId: id, content });
    else {
      log.append({ type: 'system.message', id: system.id, content: system.content });
      queue.push({ eventId: id, content, system: system.content });
    }
    if (firstMessageText === null) {
      firstMessageText = content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join(' ');
      setCurrentDetails(`First message: ${firstMessageText}`);
    }
  };
  const takeInterrupt = ({ id, threadId }: UserInterruptSignalInput): void => {
    if (ended || seenEventIds.has(id)) return;
    remember(seenEventIds, id);
    if (threadId !== undefined) {
      // One child thread: only it stops; the coordinator gets its reply as usual.
      if (threads?.has(threadId) !== true) return;
      log.append({ type: 'user.interrupt', id, session_thread_id: threadId });
      threads.interrupt(id, threadId);
      return;
    }
    log.append({ type: 'user.interrupt', id });
    const threadsWaited = (threads?.awaiting().length ?? 0) > 0;
    threads?.interrupt(id);
    // An interrupt while a turn runs ends it (the idle that follows publishes); one while idle changes only the log
    // (and ends an outcome whose last turn failed).
    if (turnScope === null) {
      // An interrupt while the budget holds the session idle drops the paused work: a raise no longer resumes it.
      context.state.budgetPaused = false;
      outcomes.interruptIdle();
      // An idle that named child threads' calls no longer holds: those calls are cancelled.
      if (threadsWaited && context.state.status === 'idle' && !idleHeld)
        context.enterStatus('idle', { type: 'end_turn' });
      publishListing();
    } else turnScope.cancel();
  };
  const defineOutcome = (input: DefineOutcomeInput): void => {
    remember(seenEventIds, input.id);
    outcomes.define(input);
    queue.push({
      eventId: input.id,
      content: [{ type: 'text', text: input.description }],
      outcomeId: input.outcomeId,
    });
  };
  /** Why the session cannot take an outcome now, or `null` when it can. */
  const outcomeRefusal = (): string | null => {
    if (ended) return 'The session has ended.';
    if (archivedAt !== null) return 'The session is archived.';
    return outcomes.defineProblem();
  };
  /** A new session's `user.define_outcome`; a Signal cannot be refused, so one it cannot take is left out and logged. */
  const takeInitialOutcome = (input: DefineOutcomeInput): void => {
    if (seenEventIds.has(input.id)) return;
    const problem = outcomeRefusal();
    if (problem === null) defineOutcome(input);
    else workflowLog.warn('initial user.define_outcome not taken', { eventId: input.id, problem });
  };
  // A new session's initial events, in their order, as one Signal. Signals that reach a Workflow with its first task
  // wait for their handlers and go in the order the handlers are set, so this one is set first: the initial events
  // come before any event sent after the create answered, and each kind of event keeps its place among them.
  setHandler(deliverInitialEventsSignal, (events) => {
    for (const event of events) {
      if (event.type === 'user.message') takeMessage(event);
      else if (event.type === 'user.interrupt') takeInterrupt(event);
      else takeInitialOutcome(event);
    }
  });
  setHandler(sendMessageSignal, takeMessage);
  setHandler(interruptSessionSignal, takeInterrupt);
  setHandler(defineOutcomeUpdate, defineOutcome, {
    validator: (_input: DefineOutcomeInput) => {
      const problem = outcomeRefusal();
      if (problem !== null) throw new Error(problem);
    },
  });
  setHandler(
    updateSessionUpdate,
    (update) => {
      const metadata = (workflowInfo().memo?.['metadata'] ?? {}) as Record<string, string>;
      const outcome = applySessionUpdate({ title, metadata }, update);
      const agent = update.agent;
      const budget = update.budget === undefined ? context.state.budget : update.budget;
      const budgetChanged = !sameBudget(budget, context.state.budget);
      if (outcome.changed === null && agent === undefined && !budgetChanged) return;
      // With listings, one upsert after the event carries the changed values and the listing; before, one per value.
      const listed = patched(SESSION_LISTING_PATCH);
      const changes: Record<string, unknown> = {};
      title = outcome.details.title;
      if (outcome.details.metadata !== metadata) {
        changes['metadata'] = outcome.details.metadata;
        if (!listed) upsertMemo({ metadata: outcome.details.metadata });
      }
      if (agent !== undefined) {
        // The next turn runs the new tools; MCP servers list their tools again, since a server may have changed.
        context.agent = agent.snapshot;
        context.state.mcpTools.clear();
        changes['agent'] = agent.view;
        if (!listed) upsertMemo({ agent: agent.view });
      }
      // A raise or a removal resumes a turn the budget paused (the main loop wakes for it).
      context.state.budget = budget;
      if (patched(SESSION_UPDATED_EVENT_PATCH)) {
        log.append({
          type: 'session.updated',
          ...outcome.changed,
          ...(agent === undefined ? {} : { agent: agent.view }),
          ...(budgetChanged ? { budget } : {}),
        });
      }
      if (listed) publishListing(changes);
    },
    {
      validator: (update: UpdateSessionInput) => {
        if (ended) throw new Error('The session has ended.');
        if (update.agent !== undefined && context.state.status !== 'idle') {
          throw new Error(`The session is ${context.state.status}; its agent can change only while it is idle.`);
        }
        if (update.budget !== undefined) {
          const problem = budgetUpdateProblem({
            current: context.state.budget,
            next: update.budget,
            priced: input.listPrice !== undefined,
            listCostNano: context.listCostNano(),
          });
          if (problem !== null) throw new Error(problem);
        }
      },
    },
  );
  setHandler(
    sessionResourcesUpdate,
    (change) => {
      const before = context.resources;
      context.resources = applyResourceChange(before, change);
      // From the next tool call on, the sandbox mounts the new list (its container is replaced, its volume kept), and
      // an added repository (or one whose failed clone got a new token) is cloned before it.
      context.files = fileMounts(context.resources);
      context.repositoryClones = repositoryClonesAfterChange(context.repositoryClones, before, change);
      upsertMemo({ resources: context.resources });
      return context.resources;
    },
    {
      validator: (change: SessionResourceChange) => {
        if (ended) throw new Error('The session has ended.');
        if (change.op === 'add' && context.selfHosted !== null) {
          throw new Error(
            `The session runs on self-hosted environment ${context.selfHosted.environmentId}, whose workers run its ` +
              "tools: it takes no resources (they live in Keel's sandbox).",
          );
        }
        if (change.op !== 'rotate' && threads?.hasLive() === true) {
          throw new Error(
            "The session's child threads share its sandbox with the files they started with: its resources change " +
              'only once every child thread has ended (archive them first).',
          );
        }
        const problem = resourceChangeProblem(context.resources, change);
        if (problem !== null) throw new Error(problem);
      },
    },
  );
  setHandler(threadReportSignal, (report) => threads?.report(report));
  setHandler(
    archiveThreadUpdate,
    ({ threadId }) => {
      const archived = (threads as SessionThreads).archive(threadId);
      publishListing();
      return archived;
    },
    {
      validator: ({ threadId }: { threadId: string }) => {
        if (ended) throw new Error('The session has ended.');
        const problem = threads === null ? `No thread ${threadId} in this session.` : threads.archiveProblem(threadId);
        if (problem !== null) throw new Error(problem);
      },
    },
  );
  setHandler(archiveSessionUpdate, () => {
    archivedAt ??= new Date().toISOString();
    if (!publishListing({ archived_at: archivedAt })) upsertMemo({ archived_at: archivedAt });
    return archivedAt;
  });
  setHandler(
    toolConfirmationUpdate,
    ({ id, toolUseId, result, denyMessage }) => {
      remember(seenEventIds, id);
      answerCall({ kind: 'confirmation', id, eventId: toolUseId, result, denyMessage });
    },
    { validator: ({ toolUseId }: ToolConfirmationInput) => requireAwaited(toolUseId, 'user.tool_confirmation') },
  );
  setHandler(
    customToolResultUpdate,
    ({ id, customToolUseId, content, isError, system }) => {
      remember(seenEventIds, id);
      answerCall({
        kind: 'custom_result',
        id,
        eventId: customToolUseId,
        content,
        isError,
        ...(system === undefined ? {} : { system }),
      });
    },
    {
      validator: ({ customToolUseId }: CustomToolResultInput) =>
        requireAwaited(customToolUseId, 'user.custom_tool_result'),
    },
  );
  setHandler(
    toolResultUpdate,
    ({ id, toolUseId, content, isError }) => {
      remember(seenEventIds, id);
      log.append({ type: 'user.tool_result', id, tool_use_id: toolUseId, content, is_error: isError });
      currentTurn?.resolveRemote(toolUseId, { output: toolResultText(content), isError });
    },
    { validator: ({ toolUseId }: ToolResultInput) => requireAwaited(toolUseId, 'user.tool_result') },
  );
  /**
   * Takes the client's answer to a waiting call (checked by `requireAwaited`): a child thread's call is answered
   * there and logged here with the thread it went to; the primary thread's goes to the current turn.
   */
  function answerCall(answer: ThreadAnswerInput): void {
    const threadId =
      threads?.answerProblem(answer.eventId, resolvedByOf(answer)) === null ? threads.answer(answer) : undefined;
    logClientAnswer(log, answer, threadId);
    if (threadId === undefined) resolveClientAnswer(currentTurn, answer);
  }

  /** Refuses an answer for a tool call the session is not waiting on (unknown, or already answered). */
  function requireAwaited(eventId: string, resolvedBy: AwaitedToolCall['resolvedBy']): void {
    if (ended) throw new Error('The session has ended.');
    if (archivedAt !== null) throw new Error('The session is archived.');
    const threadProblem = threads?.answerProblem(eventId, resolvedBy);
    if (typeof threadProblem === 'string') throw new Error(threadProblem);
    if (threadProblem === null) return;
    if (currentTurn === null) throw new Error(`No tool call ${eventId} is waiting for the client.`);
    const problem = currentTurn.checkResolvable(eventId, resolvedBy);
    if (problem !== null) throw new Error(problem);
  }
  setHandler(endSessionSignal, () => {
    ended = true;
    turnScope?.cancel();
  });
  setHandler(getEventsQuery, ({ after, limit }) => ({
    events: log.after(after, limit ?? DEFAULT_EVENTS_PAGE),
    firstPosition: log.firstPosition,
    nextPosition: log.nextPosition,
    previousRunId: carry?.previousRunId ?? null,
    archives,
    ...(archiveIndexKey === null ? {} : { archiveIndexKey }),
    status: context.state.status,
  }));
  /** The session's state without its events, as `getSessionQuery` answers and the listing shows it. */
  function summary(): SessionSummary {
    return {
      status: context.state.status,
      usage: context.state.usage,
      eventCount: log.nextPosition,
      queuedMessages: queue.length,
      title,
      agent: context.agent,
      createdAt: input.createdAt,
      archivedAt,
      lastEvent: log.lastEvent,
      activeTime,
      awaiting: [...(currentTurn?.answerableCalls() ?? []), ...(threads?.awaiting() ?? [])],
      ...(outcomes.snapshot().length === 0 ? {} : { outcomeEvaluations: outcomes.views() }),
      budget: context.state.budget,
      ...listCostField(),
      ...(threads === null || threads.list().length === 0 ? {} : { threads: threads.list() }),
    };
  }
  /** The session's list cost in whole cents, when its model has a list price. */
  function listCostField(): { listCost?: ReturnType<typeof toMonetaryAmount> } {
    const cost = context.listCostNano();
    return cost === null ? {} : { listCost: toMonetaryAmount(cost) };
  }
  /** Whether a turn the budget paused may go on: the budget was raised above the list cost, or removed. */
  function budgetResumable(): boolean {
    const { budget, budgetPaused } = context.state;
    return budgetPaused && (budget === null || !budgetReached(context.listCostNano(), budget));
  }
  setHandler(getSessionQuery, summary);

  /**
   * Publishes the session's listing to its memo, in one upsert with `changes` (other memo values that changed at the
   * same moment), so `sessions.list` shows the session without querying it. Returns false, and upserts nothing, in a
   * session started before listings.
   */
  function publishListing(changes: Record<string, unknown> = {}): boolean {
    if (!patched(SESSION_LISTING_PATCH)) return false;
    const memo = workflowInfo().memo;
    const agentView = changes['agent'] ?? memo?.['agent'];
    // The first run's start, kept from the listing a previous run published (the run's own start is later).
    const startedAt = sessionListingOf(memo)?.startedAt ?? workflowInfo().startTime.toISOString();
    const listing = toSessionListing(summary(), {
      startedAt,
      withDefaultAgent: agentView === undefined || agentView === null,
    });
    upsertMemo({ ...changes, [SESSION_LISTING_MEMO_KEY]: listing });
    return true;
  }
  // A new session shows in listings from its start; a continued run carries its listing over in its memo.
  if (carry === undefined) publishListing();

  /** Writes this run's events before `upTo` as one archive (a copy: events logged meanwhile are not in it). */
  function archiveRun(upTo: number): Promise<EventArchiveRef> {
    return archiveEvents({
      format: EVENT_ARCHIVE_FORMAT,
      sessionId: input.sessionId,
      firstPosition: log.firstPosition,
      nextPosition: upTo,
      events: log.all().slice(0, upTo - log.firstPosition),
    });
  }

  /**
   * Archives this run's events before `upTo` and indexes the archive, so the next run carries one index key (runs
   * recorded before that carried a few references, and folded them into a page every `ARCHIVE_REFS_CARRIED` runs).
   */
  async function archiveAndIndex(upTo: number): Promise<{ archives: EventArchiveRef[]; key: string | null }> {
    if (patched(ARCHIVE_EACH_RUN_INDEXED_PATCH)) {
      const key = await archiveRunIndexed({
        format: EVENT_ARCHIVE_FORMAT,
        sessionId: input.sessionId,
        firstPosition: log.firstPosition,
        nextPosition: upTo,
        events: log.all().slice(0, upTo - log.firstPosition),
        indexKey: archiveIndexKey,
        carried: archives,
      });
      return { archives: [], key };
    }
    const archivesAfter = [...archives, await archiveRun(upTo)];
    // More than a few references are folded into an index page, so the carry-over does not grow with the runs.
    if (archivesAfter.length > ARCHIVE_REFS_CARRIED && patched(ARCHIVE_INDEX_PATCH)) {
      const key = await writeArchiveIndex({
        sessionId: input.sessionId,
        previous: archiveIndexKey,
        archives: archivesAfter,
      });
      return { archives: [], key };
    }
    return { archives: archivesAfter, key: archiveIndexKey };
  }

  /** Whether the coordinator's held idle is due: its turn ended, no thread runs and no reply waits. */
  function idleDue(): boolean {
    return idleHeld && queue.length === 0 && threads?.busy() !== true;
  }

  /** Runs a turn in its own cancellation scope, so an interrupt cancels only the turn. */
  async function runTurn(stepsTaken: number): Promise<void> {
    const turn = new Turn(context, stepsTaken, { holdEndTurn: outcomes.holdsEndTurn() });
    context.state.budgetPaused = false;
    const scope = new CancellationScope();
    turnScope = scope;
    currentTurn = turn;
    try {
      const outcome = await scope.run(() => outcomes.runTurn(turn));
      // A turn carried into the next run goes on with its steps; an outcome's revision starts a new turn.
      if (outcome.kind === 'continue-as-new') turnInProgress = { stepsTaken: outcome.stepsTaken };
      else turnInProgress = outcome.kind === 'next-turn' ? { stepsTaken: 0 } : null;
    } catch (error) {
      if (!isCancellation(error)) throw error;
      turnInProgress = null;
      turn.interrupted();
    } finally {
      turnScope = null;
      currentTurn = null;
    }
  }

  if (carry === undefined && input.sandboxProvisioning === 'eager') {
    try {
      await provisionSandbox({ sessionId: input.sessionId, files: context.files, environment: context.environment });
      context.state.sandboxProvisioned = true;
      await cloneAwaitingRepositories(context);
    } catch (error) {
      // The first tool call provisions it again and shows the failure to the model as a tool error.
      if (isCancellation(error)) throw error;
    }
  }

  for (;;) {
    if (turnInProgress !== null && !ended) {
      await runTurn(turnInProgress.stepsTaken);
    }
    if (turnInProgress === null) {
      const woken = (): boolean =>
        queue.length > 0 || ended || context.shouldContinueAsNew() || budgetResumable() || idleDue();
      // An idle session's container stops after the idle timeout; its workspace volume stays for the next call.
      const idleStop =
        idleHeld || threads?.busy() === true
          ? null
          : patched(SANDBOX_IDLE_STOP_PATCH)
            ? sandboxIdleStopAfterMs({
                sandboxProvisioned: context.state.sandboxProvisioned,
                selfHosted: context.selfHosted !== null,
                idleTimeoutMs: input.limits.sandboxIdleTimeoutMs,
              })
            : null;
      if (idleStop === null) await condition(woken);
      // A thread that runs again (the client answered it) ends the idle wait too: the idle timer no longer applies.
      else if (!(await condition(() => woken() || idleHeld || threads?.busy() === true, idleStop))) {
        await stopIdleSandbox(input.sessionId);
        context.state.sandboxProvisioned = false;
        workspaceKept = true;
        await condition(woken);
      }
    }
    if (ended) break;
    if (idleDue()) {
      // The coordinator's turn ended and no thread runs: now the session is idle (waiting for the client when a
      // thread's calls do).
      idleHeld = false;
      context.enterStatus('idle', { type: 'end_turn' });
    }
    if (context.shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      // The run's events are written once, so reading them later costs a blob read, not a replay of this run. The
      // queries of this run keep answering with the earlier archives only: its own events are still its own.
      // Events logged while the archive is written (a Signal can arrive meanwhile) are carried into the next run.
      const archiving = patched(EVENT_ARCHIVE_PATCH);
      const archivedUpTo = log.nextPosition;
      const index = archiving ? await archiveAndIndex(archivedUpTo) : { archives, key: archiveIndexKey };
      // Signals to threads are acknowledged before the run closes (the server drops those of a closed run), and before
      // the carried events are taken, so what their handlers log goes with them.
      await threads?.settled();
      await condition(allHandlersFinished);
      // The session was ended while the archive was written: this run ends it (its events stay its own).
      if (ended) break;
      const carriedEvents = archiving ? log.after(archivedUpTo - 1, Number.MAX_SAFE_INTEGER) : [];
      const conversation = context.state.conversation;
      const next: SessionCarryOver = {
        firstPosition: archiving ? archivedUpTo : log.nextPosition,
        ...(carriedEvents.length === 0 ? {} : { carriedEvents }),
        previousRunId: info.runId,
        ...(conversation.isInline
          ? { messages: conversation.inlineMessages }
          : { conversation: conversation.snapshot() }),
        ...(index.archives.length === 0 ? {} : { archives: index.archives }),
        ...(index.key === null ? {} : { archiveIndexKey: index.key }),
        queue,
        seenEventIds: [...seenEventIds],
        usage: context.state.usage,
        status: context.state.status,
        sandboxProvisioned: context.state.sandboxProvisioned,
        ...(workspaceKept ? { workspaceKept } : {}),
        turnInProgress,
        firstMessageText,
        title,
        archivedAt,
        activeTime,
        ...(noRepositoryClones(context.repositoryClones) ? {} : { repositoryClones: context.repositoryClones }),
        ...(outcomes.snapshot().length === 0 ? {} : { outcomes: outcomes.snapshot() }),
        ...(context.state.budget === null ? {} : { budget: context.state.budget }),
        ...(context.state.budgetPaused ? { budgetPaused: true as const } : {}),
        ...(threads === null || threads.list().length === 0 ? {} : { threads: threads.carry() }),
        ...(idleHeld ? { idleHeld: true as const } : {}),
      };
      // The memo (agent, environment, metadata) and search attributes go with the session into its next run.
      const continueWithSameMemo = makeContinueAsNewFunc<typeof sessionWorkflow>({
        memo: workflowInfo().memo ?? {},
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      });
      // The agent may have changed (sessions.update while idle): the next run starts with the current one.
      await continueWithSameMemo({ ...input, agent: context.agent, files: context.files, carryOver: next });
    }
    if (turnInProgress !== null) continue;
    if (budgetResumable()) {
      // The budget was raised or removed: the paused turn goes on where it stopped, before any queued message.
      context.setStatus('running');
      log.append({ type: 'session.status_running' });
      await runTurn(0);
      continue;
    }
    const message = queue.shift();
    if (message === undefined) continue;
    if (message.outcomeId !== undefined) outcomes.start(message.outcomeId);
    context.state.conversation.addUserMessage(message.content, message.system);
    // A coordinator whose idle was held is still running: its next turn (a thread's reply) logs no new start.
    idleHeld = false;
    if (context.state.status !== 'running') context.enterStatus('running');
    await runTurn(0);
  }

  await threads?.endAll();

  if (context.state.sandboxProvisioned || workspaceKept || input.sandboxProvisioning === 'eager') {
    await destroySandbox({ sessionId: input.sessionId, removeVolume: true });
  }
  context.setStatus('terminated');
  log.append({ type: 'session.status_terminated' });
  // A session ends only when it is deleted; `session.deleted` is its last event and ends every stream.
  if (patched(SESSION_DELETED_EVENT_PATCH)) log.append({ type: 'session.deleted' });
  publishListing();
  await condition(allHandlersFinished);
  if (!patched(EVENT_ARCHIVE_PATCH)) return { eventCount: log.nextPosition, usage: context.state.usage };
  // The last run is archived too, and the result names every archive: reading an ended session replays nothing.
  const last = await archiveRun(log.nextPosition);
  return {
    eventCount: log.nextPosition,
    usage: context.state.usage,
    archives: [...archives, last],
    ...(archiveIndexKey === null ? {} : { archiveIndexKey }),
  };
}

function remember(seen: Set<string>, id: string): void {
  seen.add(id);
  if (seen.size > SEEN_EVENT_IDS_KEPT) {
    const oldest = seen.values().next().value;
    if (oldest !== undefined) seen.delete(oldest);
  }
}
