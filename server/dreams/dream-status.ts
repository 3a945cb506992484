import type { SessionEvent, SessionStatus } from '../../common/events';
import type { SessionUsage } from '../../common/session';
import type { DreamStatus, StoredDream } from '../store/dream-repository';

/**
 * What Keel reads of a dream's session: its status, the last event of its log and its usage (`null` when the session
 * has ended and no longer answers, so the usage last read stands).
 */
export interface DreamSessionState {
  status: SessionStatus;
  lastEvent: SessionEvent | null;
  usage: SessionUsage | null;
}

/** Whether a dream's status is final (`completed`, `failed`, `canceled`): it never changes again. */
export function isFinalDreamStatus(status: DreamStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'canceled';
}

/**
 * The dream after reading its session (`null`: the session is gone), at `now`. A final dream stays as it is. Otherwise
 * its status follows the session's one turn: `pending` until the session has started it, `running` while it works,
 * `completed` when the turn ends with `end_turn`, `failed` (with an `error`) when it ends any other way, when the
 * session ends, or when it is gone. Usage is the session's.
 */
export function observeDream(dream: StoredDream, session: DreamSessionState | null, now: string): StoredDream {
  if (isFinalDreamStatus(dream.status)) return dream;
  if (session === null) {
    return fail(dream, now, 'internal_error', `The dream's session ${dream.sessionId ?? ''} no longer exists.`);
  }
  const observed: StoredDream = session.usage === null ? dream : { ...dream, usage: { ...session.usage } };
  if (session.status === 'terminated') {
    return fail(
      observed,
      now,
      'internal_error',
      `The dream's session ${dream.sessionId ?? ''} ended before the dream did.`,
    );
  }
  const last = session.lastEvent;
  if (session.status === 'idle' && last?.type === 'session.status_idle') {
    const reason = last.stop_reason.type;
    if (reason === 'end_turn') return { ...observed, status: 'completed', endedAt: now, error: null };
    const type = reason === 'retries_exhausted' ? 'model_error' : 'internal_error';
    return fail(observed, now, type, `The dream's session stopped with ${reason} (see its session.error events).`);
  }
  // Idle with the first message not taken up yet: the session has not started the dream.
  const started = session.status === 'running' || session.status === 'rescheduling' || last?.type !== 'user.message';
  return { ...observed, status: started ? 'running' : 'pending' };
}

function fail(dream: StoredDream, now: string, type: string, message: string): StoredDream {
  return { ...dream, status: 'failed', endedAt: now, error: { type, message } };
}
