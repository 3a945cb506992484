import { ID_PREFIXES } from '../../../common/ids';
import { ApiError } from '../../api-error';

/**
 * The id of a session's primary thread: `sthr_` followed by the session id's suffix (`sesn_abc…` → `sthr_abc…`). It is
 * derived, never stored, so it is stable across restarts, continue-as-new and server replicas, and names one session.
 */
export function primaryThreadId(sessionId: string): string {
  return ID_PREFIXES.sessionThread + sessionId.slice(ID_PREFIXES.session.length);
}

/** The 404 for a thread the session does not have (an unknown id, or another session's thread). */
export function threadNotFound(sessionId: string, threadId: string, field?: string): ApiError {
  const message =
    `No thread ${threadId} in session ${sessionId}: its threads are its primary thread ${primaryThreadId(sessionId)} ` +
    'and the child threads its coordinator started (sessions.threads.list shows them).';
  return new ApiError('not_found_error', field === undefined ? message : `${field}: ${message}`);
}
