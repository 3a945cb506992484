import { ApiError } from '../../api-error';
import type { SessionService } from '../session-service';
import { primaryThreadId, requirePrimaryThread } from './primary-thread-id';
import type { ThreadListQuery } from './thread-request-schemas';
import { toPrimaryThreadView } from './thread-view';
import type { SessionThreadView } from './thread-view';

/**
 * The threads of a session (`sessions.threads`). Keel runs single-agent sessions: each has its primary thread and no
 * child threads, so every answer is built from the session itself, through `SessionService` (its 404s, its workspace
 * rule); nothing about threads is stored.
 */
export class SessionThreadService {
  constructor(private readonly sessions: SessionService) {}

  /**
   * A page of the session's threads, oldest first: its primary thread, when its status is among `statuses` (all when
   * empty). `page` is an offset into that list, as the previous page's `next_page` gives it.
   */
  async list(
    sessionId: string,
    query: Pick<ThreadListQuery, 'limit' | 'page' | 'statuses' | 'statuses[]'>,
  ): Promise<{ data: SessionThreadView[]; next_page: string | null }> {
    const statuses = [query.statuses ?? [], query['statuses[]'] ?? []].flat();
    const thread = toPrimaryThreadView(await this.sessions.get(sessionId));
    const threads = statuses.length === 0 || statuses.includes(thread.status) ? [thread] : [];
    const start = query.page === undefined || query.page === null || query.page === '' ? 0 : Number(query.page);
    const end = start + query.limit;
    return { data: threads.slice(start, end), next_page: end < threads.length ? String(end) : null };
  }

  /** The thread, or a 404 when the session has no such thread (or no such session). */
  async get(sessionId: string, threadId: string): Promise<SessionThreadView> {
    requirePrimaryThread(sessionId, threadId);
    return toPrimaryThreadView(await this.sessions.get(sessionId));
  }

  /**
   * Archives a thread: only idle child threads can be archived (the hosted rule), and a Keel session has none, so this
   * is a 404 for a thread the session does not have and a 400 for its primary thread.
   */
  async archive(sessionId: string, threadId: string): Promise<never> {
    await this.get(sessionId, threadId);
    throw new ApiError(
      'invalid_request_error',
      `thread_id: ${primaryThreadId(sessionId)} is the primary thread of session ${sessionId}, and the primary ` +
        'thread cannot be archived (only idle child threads can); archive the session instead.',
    );
  }
}
