import {
  CancelledFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import type { ToolOutput } from '../common/conversation';
import { ID_PREFIXES } from '../common/ids';
import { noActiveTime } from '../common/active-time';
import { emptyUsage } from '../common/session';
import type { AwaitedToolCall, QueuedMessage, SessionUsage } from '../common/session';
import { threadWorkflowId } from '../common/multiagent';
import type {
  CallableAgent,
  SessionThreadsCarry,
  SessionThreadWorkflowInput,
  ThreadAnswerInput,
  ThreadRecord,
  ThreadReport,
} from '../common/multiagent';
import type { EventLog } from './event-log';
import { endSessionSignal, interruptSessionSignal, threadAnswerSignal, threadMessageSignal } from './messages';
import type { NewSessionEvent } from './event-log';
import { threadReplyText } from './thread-tools';
import type { ThreadToolRequest, ThreadTools } from './thread-tools';
import type { sessionThreadWorkflow } from './session-thread';

/** How long a session that ends waits for its threads to log their end (well within the server's wait for the end). */
const THREAD_END_TIMEOUT = '20 seconds';

/** What the session gives its threads: who they are, what they share, and where their replies and usage go. */
export interface SessionThreadsHost {
  log: EventLog;
  callableAgents: CallableAgent[];
  /** The part of every thread's input that comes from the session (its sandbox, vaults and limits, as they are now). */
  threadInput(): Omit<SessionThreadWorkflowInput, 'threadId' | 'agentName' | 'agent' | 'createdAt'>;
  /** Adds a thread's new usage to the session's. */
  addUsage(delta: SessionUsage): void;
  /** Queues a thread's reply for the coordinator's next turn. */
  deliver(message: QueuedMessage): void;
  /** Called when a thread starts: it may use the sandbox, which the session then removes when it ends. */
  sandboxShared(): void;
  /** Called when a thread runs again after the client answered it: an idle session runs again with it. */
  resumed(): void;
  /** Called when what the threads wait on changed (a new wait, or one answered in part): an idle session says so. */
  waitingChanged(): void;
}

/**
 * The session's side of its child threads (multiagent): the coordinator's delegation tools start threads (Child
 * Workflows) and write to them; each thread's reports update its record and are cross-posted to the session's log,
 * and a reply is queued for the coordinator. The records cross continue-as-new; the threads outlive a run.
 */
export class SessionThreads implements ThreadTools {
  readonly agentNames: string[];
  private readonly records: ThreadRecord[];
  /** Threads whose replies are dropped: every thread was interrupted while they ran. */
  private readonly silenced: Set<string>;
  /** Replies already taken (a report delivered twice is taken once). */
  private readonly replies = new Set<string>();
  /** Signals to threads not yet acknowledged: the run waits for them before it closes (continue-as-new, end). */
  private readonly inFlight = new Set<Promise<boolean>>();
  /** Set once the session's last events are written: reports that come later change nothing. */
  private closed = false;

  constructor(
    private readonly host: SessionThreadsHost,
    carried: SessionThreadsCarry = { records: [] },
  ) {
    this.agentNames = host.callableAgents.map((agent) => agent.name);
    this.records = carried.records.map((record) => ({ ...record }));
    this.silenced = new Set(carried.silenced ?? []);
  }

  /** What the next run takes over. */
  carry(): SessionThreadsCarry {
    return { records: this.records, ...(this.silenced.size === 0 ? {} : { silenced: [...this.silenced] }) };
  }

  /** Whether some thread has not ended: the session's files cannot change under it. */
  hasLive(): boolean {
    return this.records.some((record) => record.status !== 'terminated');
  }

  /** Waits until every Signal sent to a thread was acknowledged (or failed), so closing the run loses none. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The session's threads, oldest first (for the summary and the next run). */
  list(): ThreadRecord[] {
    return this.records;
  }

  /** Whether a thread is running: the session stays `running` until none is. */
  busy(): boolean {
    return this.records.some(
      (record) => record.awaiting === undefined && (record.status === 'running' || record.status === 'rescheduling'),
    );
  }

  /** Runs a delegation call of the coordinator. */
  async run(request: ThreadToolRequest, eventId: string): Promise<ToolOutput> {
    const { log } = this.host;
    // A call after an interrupt (a second call of the same step) starts nothing.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('The turn was interrupted.');
    const content = [{ type: 'text' as const, text: request.text }];
    if (request.kind === 'spawn') {
      const callable = this.host.callableAgents.find((agent) => agent.name === request.agentName);
      if (callable === undefined) return { output: `No callable agent is named ${request.agentName}.`, isError: true };
      const threadId = `${ID_PREFIXES.sessionThread}${uuid4().replace(/-/g, '')}`;
      const now = new Date().toISOString();
      const record: ThreadRecord = {
        id: threadId,
        agentName: callable.name,
        agentView: callable.view,
        createdAt: now,
        updatedAt: now,
        status: 'running',
        archivedAt: null,
        usage: emptyUsage(),
        activeTime: noActiveTime(),
        queuedMessages: 1,
      };
      this.records.push(record);
      this.host.sandboxShared();
      log.append({
        type: 'session.thread_created',
        session_thread_id: threadId,
        agent_name: callable.name,
        workflow_run_id: null,
      });
      log.append({
        type: 'agent.thread_message_sent',
        id: eventId,
        to_session_thread_id: threadId,
        to_agent_name: callable.name,
        content,
      });
      const base = this.host.threadInput();
      // Not cancellable: a thread the record names must exist, whatever interrupts the coordinator meanwhile.
      const started = await CancellationScope.nonCancellable(() =>
        startChild<typeof sessionThreadWorkflow>('sessionThreadWorkflow', {
          workflowId: threadWorkflowId(base.sessionId, threadId),
          // A thread outlives the run that started it (continue-as-new); the session ends its threads itself.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `Thread ${threadId} (${callable.name}) of ${base.sessionId}`,
          args: [
            {
              ...base,
              threadId,
              agentName: callable.name,
              agent: callable.snapshot,
              createdAt: now,
              firstMessage: { id: `${eventId}r`, content },
            },
          ],
        }),
      ).catch((error: unknown) => {
        this.ended(record);
        return error instanceof Error ? error : new Error(String(error));
      });
      if (started instanceof Error) return { output: `The thread could not start: ${started.message}`, isError: true };
      // A thread that fails or is terminated from outside never reports its end: its result tells this run.
      void started.result().then(
        () => this.ended(record),
        () => this.ended(record),
      );
      // Interrupted while the thread started: the interrupt reached no thread, so it is sent again, and its reply dropped.
      if (CancellationScope.current().consideredCancelled) {
        this.silenced.add(record.id);
        void this.signal(record.id, (handle) => handle.signal(interruptSessionSignal, { id: `${eventId}-interrupt` }));
      }
      return {
        output:
          `Started thread ${threadId} running ${callable.name}. Its reply will arrive as a message from that thread ` +
          'when its turn ends.',
        isError: false,
      };
    }
    const record = this.records.find((candidate) => candidate.id === request.threadId);
    if (record === undefined) {
      return { output: `No thread ${request.threadId} was started in this session.`, isError: true };
    }
    if (record.archivedAt !== null || record.status === 'terminated') {
      return { output: `Thread ${record.id} is archived and takes no more messages.`, isError: true };
    }
    log.append({
      type: 'agent.thread_message_sent',
      id: eventId,
      to_session_thread_id: record.id,
      to_agent_name: record.agentName,
      content,
    });
    // A thread waiting for the client takes the message after its turn; it stays idle (waiting) meanwhile.
    if (record.awaiting === undefined) record.status = 'running';
    record.queuedMessages = (record.queuedMessages ?? 0) + 1;
    this.silenced.delete(record.id);
    const sent = await this.signal(record.id, (handle) =>
      handle.signal(threadMessageSignal, { id: `${eventId}r`, content }),
    );
    if (!sent) {
      this.ended(record);
      return { output: `Thread ${record.id} no longer runs; the message did not reach it.`, isError: true };
    }
    return { output: `Sent to thread ${record.id} (${record.agentName}).`, isError: false };
  }

  /** Takes a thread's report: updates its record and cross-posts the change (and its reply) to the session's log. */
  report(report: ThreadReport): void {
    const record = this.records.find((candidate) => candidate.id === report.threadId);
    if (record === undefined || this.closed || record.status === 'terminated') return;
    if (report.reply !== undefined) {
      if (this.replies.has(report.reply.id)) return;
      this.replies.add(report.reply.id);
    }
    const { log } = this.host;
    const delta = emptyUsage();
    for (const key of Object.keys(delta) as Array<keyof SessionUsage>) {
      delta[key] = Math.max(0, report.usage[key] - record.usage[key]);
    }
    this.host.addUsage(delta);
    record.usage = report.usage;
    record.activeTime = report.activeTime;
    record.updatedAt = new Date().toISOString();
    const common = { session_thread_id: record.id, agent_name: record.agentName };
    if (report.status === 'running') {
      const answered = record.awaiting !== undefined || record.answered !== undefined;
      record.status = 'running';
      record.awaiting = undefined;
      record.posted = undefined;
      record.answered = undefined;
      log.append({ type: 'session.thread_status_running', ...common });
      if (answered) this.host.resumed();
    } else if (report.status === 'rescheduling') {
      record.status = 'rescheduling';
      log.append({ type: 'session.thread_status_rescheduled', ...common });
    } else if (report.status === 'idle' && report.stopReason?.type === 'requires_action') {
      this.waitForClient(record, report);
    } else if (report.status === 'idle') {
      record.awaiting = undefined;
      if (report.reply !== undefined) {
        const received = log.append({
          type: 'agent.thread_message_received',
          id: report.reply.id,
          from_session_thread_id: record.id,
          from_agent_name: record.agentName,
          content: report.reply.content,
        });
        if (!this.silenced.has(record.id)) {
          const text = report.reply.content.map((block) => block.text).join('\n\n');
          this.host.deliver({
            eventId: received.id,
            content: [{ type: 'text', text: threadReplyText(record.id, record.agentName, text) }],
          });
        }
      }
      // A message the coordinator sent meanwhile is already queued in the thread: it stays running for it.
      record.queuedMessages = Math.max(0, (record.queuedMessages ?? 1) - 1);
      if (record.queuedMessages === 0) record.status = 'idle';
      log.append({
        type: 'session.thread_status_idle',
        ...common,
        stop_reason: report.stopReason ?? { type: 'end_turn' },
        stop_details: null,
      });
    } else this.ended(record);
  }

  /**
   * A thread whose calls wait for the client: their events are cross-posted (once, with `session_thread_id`), the
   * thread is idle with `requires_action`, and the session routes the answers to it (`answer`).
   */
  private waitForClient(record: ThreadRecord, report: ThreadReport): void {
    // The thread re-reports what still waits after each answer; calls answered meanwhile are already on their way.
    const answered = new Set(record.answered ?? []);
    const waiting = (report.awaiting ?? []).filter(({ event }) => !answered.has(event.id));
    if (waiting.length === 0) return;
    const posted = new Set(record.posted ?? []);
    for (const { event } of waiting) {
      if (posted.has(event.id)) continue;
      posted.add(event.id);
      const { processed_at: _processedAt, ...fields } = event;
      this.host.log.append({ ...fields, session_thread_id: record.id } as NewSessionEvent);
    }
    record.posted = [...posted];
    record.awaiting = waiting.map(({ event, resolvedBy }) => ({ eventId: event.id, resolvedBy, threadId: record.id }));
    record.status = 'idle';
    this.host.log.append({
      type: 'session.thread_status_idle',
      session_thread_id: record.id,
      agent_name: record.agentName,
      stop_reason: { type: 'requires_action', event_ids: record.awaiting.map((call) => call.eventId) },
      stop_details: null,
    });
    this.host.waitingChanged();
  }

  /** The child threads' calls that wait for the client, oldest thread first. */
  awaiting(): AwaitedToolCall[] {
    return this.records.flatMap((record) => record.awaiting ?? []);
  }

  /**
   * Why `resolvedBy` cannot answer the child thread call `eventId`, `null` when it can, or `undefined` when no child
   * thread waits on that call (it may be the primary thread's).
   */
  answerProblem(eventId: string, resolvedBy: AwaitedToolCall['resolvedBy']): string | null | undefined {
    const call = this.awaiting().find((candidate) => candidate.eventId === eventId);
    if (call === undefined) return undefined;
    return call.resolvedBy === resolvedBy
      ? null
      : `Tool call ${eventId} waits for ${call.resolvedBy}, not ${resolvedBy}.`;
  }

  /** Routes the client's answer (checked with `answerProblem`) to the thread whose call it is; returns the thread. */
  answer(answer: ThreadAnswerInput): string {
    const record = this.records.find((candidate) =>
      (candidate.awaiting ?? []).some((call) => call.eventId === answer.eventId),
    ) as ThreadRecord;
    record.awaiting = (record.awaiting ?? []).filter((call) => call.eventId !== answer.eventId);
    record.answered = [...(record.answered ?? []), answer.eventId];
    void this.signal(record.id, (handle) => handle.signal(threadAnswerSignal, answer)).then((sent) => {
      if (!sent) this.ended(record);
    });
    return record.id;
  }

  /** Marks a thread ended and logs it, once (its own report, a failed start or Signal, or its Workflow's end). */
  private ended(record: ThreadRecord): void {
    if (record.status === 'terminated' || this.closed) return;
    record.status = 'terminated';
    record.queuedMessages = 0;
    record.awaiting = undefined;
    record.updatedAt = new Date().toISOString();
    this.host.log.append({
      type: 'session.thread_status_terminated',
      session_thread_id: record.id,
      agent_name: record.agentName,
    });
  }

  /** Whether `threadId` is one of this session's child threads. */
  has(threadId: string): boolean {
    return this.records.some((record) => record.id === threadId);
  }

  /**
   * Interrupts one thread, or every thread (`threadId` absent, with the coordinator): the replies of their
   * interrupted turns are logged but not given to the coordinator.
   */
  interrupt(id: string, threadId?: string): void {
    for (const record of this.records) {
      if (record.status === 'terminated' || (threadId !== undefined && record.id !== threadId)) continue;
      // A thread that runs, or waits for the client, has a turn the interrupt ends: its reply is not the coordinator's.
      if (threadId === undefined && (record.status !== 'idle' || record.awaiting !== undefined)) {
        this.silenced.add(record.id);
      }
      if (threadId === undefined) record.awaiting = undefined;
      void this.signal(record.id, (handle) => handle.signal(interruptSessionSignal, { id: `${id}-${record.id}` }));
    }
  }

  /** Why `threadId` cannot be archived now, or `null` when it can. */
  archiveProblem(threadId: string): string | null {
    const record = this.records.find((candidate) => candidate.id === threadId);
    if (record === undefined) return `No thread ${threadId} in this session.`;
    if (record.archivedAt !== null) return null;
    if (record.status === 'running' || record.status === 'rescheduling') {
      return `Thread ${threadId} is ${record.status}; only an idle thread can be archived.`;
    }
    return null;
  }

  /** Archives an idle thread: it ends and takes no more messages. Answers with its `archived_at`. */
  archive(threadId: string): string {
    const record = this.records.find((candidate) => candidate.id === threadId) as ThreadRecord;
    if (record.archivedAt === null) {
      record.archivedAt = new Date().toISOString();
      record.updatedAt = record.archivedAt;
      if (record.status !== 'terminated') void this.signal(record.id, (handle) => handle.signal(endSessionSignal));
      if (record.awaiting !== undefined) this.silenced.add(record.id);
      record.awaiting = undefined;
    }
    return record.archivedAt;
  }

  /**
   * Ends every thread and waits (a bounded time) until each has logged its end; a thread that did not is marked ended
   * all the same. Reports that come later change nothing: the session's last events follow.
   */
  async endAll(): Promise<void> {
    for (const record of this.records) {
      if (record.status !== 'terminated') void this.signal(record.id, (handle) => handle.signal(endSessionSignal));
    }
    await condition(() => this.records.every((record) => record.status === 'terminated'), THREAD_END_TIMEOUT);
    for (const record of this.records) this.ended(record);
    await this.settled();
    this.closed = true;
  }

  /** Signals a thread's Workflow; not cancellable, so an interrupt of the coordinator never loses it. */
  /**
   * Signals a thread's Workflow; not cancellable, so an interrupt of the coordinator never loses it, and tracked until
   * acknowledged (`settled`). Answers whether it was delivered (a thread that no longer runs refuses it).
   */
  private signal(
    threadId: string,
    send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>,
  ): Promise<boolean> {
    const handle = getExternalWorkflowHandle(threadWorkflowId(this.host.threadInput().sessionId, threadId));
    const sent: Promise<boolean> = CancellationScope.nonCancellable(() => send(handle)).then(
      () => true,
      () => false,
    );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    return sent;
  }
}
