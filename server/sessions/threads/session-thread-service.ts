import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { threadWorkflowId } from '../../../common/multiagent';
import type { ThreadRecord } from '../../../common/multiagent';
import { archiveThreadUpdate, getSessionQuery } from '../../../workflows/messages';
import { ApiError } from '../../api-error';
import type { SessionQueries } from '../session-queries';
import type { SessionService } from '../session-service';
import type { SessionView } from '../session-view';
import { updateWithDeadline } from '../update-with-deadline';
import { primaryThreadId } from '../../../common/multiagent';
import { threadNotFound } from './primary-thread-id';
import type { ThreadListQuery } from './thread-request-schemas';
import { toChildThreadView, toPrimaryThreadView } from './thread-view';
import type { SessionThreadView } from './thread-view';

/**
 * The threads of a session (`sessions.threads`): its primary thread, built from the session itself, and the child
 * threads a multiagent coordinator started, from what the session's Workflow keeps of them (`getSessionQuery`'s
 * `threads`). Every answer goes through `SessionService` first (its 404s, its workspace rule); nothing about threads
 * is stored outside the Workflows.
 */
export class SessionThreadService {
  constructor(
    private readonly sessions: SessionService,
    private readonly queries: Pick<SessionQueries, 'run'>,
    private readonly client: Client,
  ) {}

  /**
   * A page of the session's threads, oldest first (its primary thread, then its child threads), those whose status is
   * among `statuses` (all when empty). `page` is an offset into that list, as the previous page's `next_page` gives it.
   */
  async list(
    sessionId: string,
    query: Pick<ThreadListQuery, 'limit' | 'page' | 'statuses' | 'statuses[]'>,
  ): Promise<{ data: SessionThreadView[]; next_page: string | null }> {
    const statuses = [query.statuses ?? [], query['statuses[]'] ?? []].flat();
    const { session, children } = await this.read(sessionId);
    const now = Date.now();
    const all = [
      toPrimaryThreadView(session, children),
      ...children.map((record) => toChildThreadView(session, record, now)),
    ];
    const threads = statuses.length === 0 ? all : all.filter((thread) => statuses.includes(thread.status));
    const start = query.page === undefined || query.page === null || query.page === '' ? 0 : Number(query.page);
    const end = start + query.limit;
    return { data: threads.slice(start, end), next_page: end < threads.length ? String(end) : null };
  }

  /** The thread, or a 404 when the session has no such thread (or no such session). */
  async get(sessionId: string, threadId: string): Promise<SessionThreadView> {
    const { session, children } = await this.read(sessionId);
    if (threadId === primaryThreadId(sessionId)) return toPrimaryThreadView(session, children);
    return toChildThreadView(session, childOf(sessionId, children, threadId));
  }

  /**
   * Archives an idle child thread (the hosted rule) through the session Workflow's `archiveThreadUpdate`, and answers
   * the thread with its `archived_at`: a 409 when the Workflow refuses (the thread still runs), a 400 for the primary
   * thread, which cannot be archived, and a 404 for a thread the session does not have.
   */
  async archive(sessionId: string, threadId: string): Promise<SessionThreadView> {
    const { session, children } = await this.read(sessionId);
    if (threadId === primaryThreadId(sessionId)) {
      throw new ApiError(
        'invalid_request_error',
        `thread_id: ${threadId} is the primary thread of session ${sessionId}, and the primary thread cannot be ` +
          'archived (only idle child threads can); archive the session instead.',
      );
    }
    childOf(sessionId, children, threadId);
    if (session.status === 'terminated') {
      throw new ApiError('conflict_error', `Session ${sessionId} has ended; its threads cannot be archived.`);
    }
    try {
      await updateWithDeadline(this.client, `the archiving of thread ${threadId}`, () =>
        this.client.workflow.getHandle(sessionId).executeUpdate(archiveThreadUpdate, { args: [{ threadId }] }),
      );
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        throw new ApiError('conflict_error', cause);
      }
      if (error instanceof WorkflowNotFoundError) {
        throw new ApiError('conflict_error', `Session ${sessionId} has ended; its threads cannot be archived.`);
      }
      throw error;
    }
    return this.get(sessionId, threadId);
  }

  /**
   * The Workflow whose log is the thread's events: the session's own for its primary thread, the thread's Workflow
   * (`threadWorkflowId`) for a child thread; a 404 for an unknown session or thread.
   */
  async eventsWorkflowId(sessionId: string, threadId: string): Promise<string> {
    await this.sessions.requireExists(sessionId);
    if (threadId === primaryThreadId(sessionId)) return sessionId;
    childOf(sessionId, await this.childRecords(sessionId), threadId);
    return threadWorkflowId(sessionId, threadId);
  }

  /** The ids of the session's child threads (archived ones included), oldest first. */
  async childThreadIds(sessionId: string): Promise<string[]> {
    await this.sessions.requireExists(sessionId);
    return (await this.childRecords(sessionId)).map((record) => record.id);
  }

  /** The session object (after its 404 and workspace checks) and its child threads. */
  private async read(sessionId: string): Promise<{ session: SessionView; children: ThreadRecord[] }> {
    const session = await this.sessions.get(sessionId);
    return { session, children: await this.childRecords(sessionId) };
  }

  private async childRecords(sessionId: string): Promise<ThreadRecord[]> {
    return (await this.queries.run(sessionId, getSessionQuery, [])).threads ?? [];
  }
}

/** The child thread `threadId` of the session, or a 404 naming it. */
function childOf(sessionId: string, children: readonly ThreadRecord[], threadId: string): ThreadRecord {
  const record = children.find((child) => child.id === threadId);
  if (record === undefined) throw threadNotFound(sessionId, threadId);
  return record;
}
