import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxySinks,
  setHandler,
  uuid4,
} from '@temporalio/workflow';
import type { SessionStatus } from '../common/events';
import type { LiveEventSinks } from '../common/live-events';
import { ID_PREFIXES } from '../common/ids';
import { activeSeconds, afterStatus, noActiveTime } from '../common/active-time';
import { emptyUsage } from '../common/session';
import type { SessionUsage } from '../common/session';
import type { SessionThreadWorkflowInput, ThreadMessageInput, ThreadReport, ThreadStatus } from '../common/multiagent';
import { logClientAnswer, resolveClientAnswer, resolvedByOf } from './client-answers';
import { ConversationState } from './conversation-state';
import { EventLog } from './event-log';
import {
  endSessionSignal,
  getEventsQuery,
  interruptSessionSignal,
  threadAnswerSignal,
  threadMessageSignal,
  threadReportSignal,
} from './messages';
import { initialRepositoryClones } from './session-resources';
import { Turn } from './turn';
import type { IdleStopReason, TurnContext } from './turn';
import { lastAgentText } from './thread-replies';

const { liveEvents } = proxySinks<LiveEventSinks>();

const DEFAULT_EVENTS_PAGE = 1_000;

/**
 * One child thread of a multiagent session: a Child Workflow of the session's (Workflow ID `threadWorkflowId`), with
 * its own event log and conversation, running the turns of one callable agent in the session's sandbox. It takes the
 * coordinator's messages by Signal, one turn each in order, and reports every status change to the session's
 * Workflow, with its reply (its turn's last `agent.message`) when a turn ends. It ends when the session ends.
 */
export async function sessionThreadWorkflow(
  input: SessionThreadWorkflowInput & { firstMessage: ThreadMessageInput },
): Promise<{ eventCount: number; usage: SessionUsage }> {
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  const log = new EventLog(0, {
    newEventId: () => `${ID_PREFIXES.event}${uuid4().replace(/-/g, '')}`,
    now: () => new Date().toISOString(),
    onAppend: (events) => liveEvents.appended(events),
  });
  const queue: ThreadMessageInput[] = [];
  const seen = new Set<string>();
  let ended = false;
  let turnScope: CancellationScope | null = null;
  let currentTurn: Turn | null = null;
  let threadStatus: ThreadStatus = 'idle';
  let activeTime = noActiveTime();
  /** Reports are sent in order, one at a time, so the session sees the thread's changes as they happened. */
  let reporting: Promise<void> = Promise.resolve();

  const context: TurnContext = {
    sessionId: input.sessionId,
    agent: input.agent,
    limits: input.limits,
    files: input.files,
    environment: input.environment,
    vaultIds: input.vaultIds,
    workspaceId: input.workspaceId,
    selfHosted: null,
    log,
    resources: [],
    repositoryClones: initialRepositoryClones([]),
    state: {
      conversation: ConversationState.empty(),
      usage: emptyUsage(),
      status: 'idle',
      sandboxProvisioned: false,
      stepsThisRun: 0,
      mcpTools: new Map(),
      storedSystem: null,
      budget: null,
      budgetPaused: false,
    },
    listCostNano: () => null,
    setStatus: (status: SessionStatus) => {
      context.state.status = status;
    },
    enterStatus: (status, stopReason) => {
      context.setStatus(status);
      const common = { session_thread_id: input.threadId, agent_name: input.agentName };
      if (status === 'rescheduling') {
        log.append({ type: 'session.thread_status_rescheduled', ...common });
        report('rescheduling');
        return;
      }
      if (status === 'running') {
        log.append({ type: 'session.thread_status_running', ...common });
        report('running');
        return;
      }
      const reason = stopReason ?? { type: 'end_turn' };
      if (reason.type === 'requires_action') waitForClient(reason);
      else idle(reason);
    },
    activeSeconds: () => activeSeconds(activeTime, Date.now()),
    // A thread runs in one run (see the README's multiagent limits).
    shouldContinueAsNew: () => false,
  };

  /** Logs the thread's reply to the coordinator and its idle, and reports both to the session. */
  function idle(stopReason: IdleStopReason): void {
    const text = replyText(stopReason);
    const sent = log.append({
      type: 'agent.thread_message_sent',
      to_session_thread_id: input.primaryThreadId,
      content: [{ type: 'text', text }],
    });
    logIdle(stopReason);
    report('idle', { stopReason, reply: { id: `${sent.id}r`, content: [{ type: 'text', text }] } });
  }

  function logIdle(stopReason: IdleStopReason): void {
    log.append({
      type: 'session.thread_status_idle',
      session_thread_id: input.threadId,
      agent_name: input.agentName,
      stop_reason: stopReason,
      stop_details: null,
    });
  }

  /**
   * Logs the thread's idle while some of its calls wait for the client, and reports them with their events: the
   * session cross-posts them and routes the client's answers here (`threadAnswerSignal`). The turn goes on after.
   */
  function waitForClient(stopReason: Extract<IdleStopReason, { type: 'requires_action' }>): void {
    logIdle(stopReason);
    const waiting = new Map((currentTurn?.awaitedCalls() ?? []).map((call) => [call.eventId, call.resolvedBy]));
    const awaiting = log.all().flatMap(({ event }) => {
      const resolvedBy = waiting.get(event.id);
      return resolvedBy === undefined ? [] : [{ event, resolvedBy }];
    });
    report('idle', { stopReason, awaiting });
  }

  /** What the coordinator hears when the turn ended: the turn's last message, or why there is none. */
  function replyText(stopReason: IdleStopReason): string {
    const said = lastAgentText(
      log.all().map((entry) => entry.event),
      turnStart,
    );
    if (stopReason.type === 'end_turn') return said ?? '(The thread ended its turn without a message.)';
    const why = `The thread stopped (${stopReason.type}) before it finished its turn.`;
    return said === null ? why : `${said}\n\n${why}`;
  }

  function report(status: ThreadStatus, extra: Pick<ThreadReport, 'stopReason' | 'reply' | 'awaiting'> = {}): void {
    threadStatus = status;
    activeTime = afterStatus(activeTime, status, Date.now());
    const message: ThreadReport = {
      threadId: input.threadId,
      status,
      usage: { ...context.state.usage },
      activeTime,
      ...extra,
    };
    // Not cancellable: an interrupt cancels the turn, never the report of its end.
    reporting = reporting
      .then(() => CancellationScope.nonCancellable(() => parent.signal(threadReportSignal, message)))
      .catch(() => undefined);
  }

  function receive(message: ThreadMessageInput): void {
    if (ended || seen.has(message.id)) return;
    seen.add(message.id);
    log.append({
      type: 'agent.thread_message_received',
      id: message.id,
      from_session_thread_id: input.primaryThreadId,
      content: message.content,
    });
    queue.push(message);
  }

  setHandler(threadMessageSignal, receive);
  setHandler(interruptSessionSignal, ({ id }) => {
    if (ended || seen.has(id)) return;
    seen.add(id);
    turnScope?.cancel();
  });
  setHandler(threadAnswerSignal, (answer) => {
    if (ended || seen.has(answer.id) || currentTurn?.checkResolvable(answer.eventId, resolvedByOf(answer)) !== null) {
      return;
    }
    seen.add(answer.id);
    logClientAnswer(log, answer);
    resolveClientAnswer(currentTurn, answer);
  });
  setHandler(endSessionSignal, () => {
    ended = true;
    turnScope?.cancel();
  });
  setHandler(getEventsQuery, ({ after, limit }) => ({
    events: log.after(after, limit ?? DEFAULT_EVENTS_PAGE),
    firstPosition: 0,
    nextPosition: log.nextPosition,
    previousRunId: null,
    archives: [],
    status: threadStatus === 'terminated' ? 'terminated' : context.state.status,
  }));

  let turnStart = 0;
  receive(input.firstMessage);
  for (;;) {
    await condition(() => queue.length > 0 || ended);
    if (ended) break;
    const message = queue.shift() as ThreadMessageInput;
    context.state.conversation.addUserMessage(message.content);
    turnStart = log.nextPosition;
    context.enterStatus('running');
    const turn = new Turn(context, 0);
    const scope = new CancellationScope();
    turnScope = scope;
    currentTurn = turn;
    try {
      await scope.run(() => turn.run());
    } catch (error) {
      if (!isCancellation(error)) throw error;
      turn.interrupted();
    } finally {
      turnScope = null;
      currentTurn = null;
    }
  }

  context.setStatus('terminated');
  log.append({
    type: 'session.thread_status_terminated',
    session_thread_id: input.threadId,
    agent_name: input.agentName,
  });
  report('terminated');
  await reporting;
  await condition(allHandlersFinished);
  return { eventCount: log.nextPosition, usage: context.state.usage };
}
