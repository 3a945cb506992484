import { primaryThreadId } from '../../../common/multiagent';
import { ApiError } from '../../api-error';

/** The 404 for a thread the session does not have (an unknown id, or another session's thread). */
export function threadNotFound(sessionId: string, threadId: string, field?: string): ApiError {
  const message =
    `No thread ${threadId} in session ${sessionId}: its threads are its primary thread ${primaryThreadId(sessionId)} ` +
    'and the child threads its coordinator started (sessions.threads.list shows them).';
  return new ApiError('not_found_error', field === undefined ? message : `${field}: ${message}`);
}
