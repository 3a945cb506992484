import { ID_PREFIXES } from '../../../common/ids';
import { ApiError } from '../../api-error';

/**
 * The id of a session's primary thread: `sthr_` followed by the session id's suffix (`sesn_abc…` → `sthr_abc…`). It is
 * derived, never stored, so it is stable across restarts, continue-as-new and server replicas, and names one session.
 */
export function primaryThreadId(sessionId: string): string {
  return ID_PREFIXES.sessionThread + sessionId.slice(ID_PREFIXES.session.length);
}

/**
 * Resolves when `threadId` names the primary thread of `sessionId`, the only thread a Keel session has; otherwise a
 * 404 in the Anthropic shape, the same for an unknown id and for another session's thread.
 */
export function requirePrimaryThread(sessionId: string, threadId: string): void {
  if (threadId !== primaryThreadId(sessionId)) throw threadNotFound(sessionId, threadId);
}

/** The 404 for a thread the session does not have. */
export function threadNotFound(sessionId: string, threadId: string, field?: string): ApiError {
  const message =
    `No thread ${threadId} in session ${sessionId}: Keel runs one thread per session, its primary thread ` +
    `${primaryThreadId(sessionId)} (no multi-agent child threads).`;
  return new ApiError('not_found_error', field === undefined ? message : `${field}: ${message}`);
}
