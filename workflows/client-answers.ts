import type { AwaitedToolCall } from '../common/session';
import type { ThreadAnswerInput } from '../common/multiagent';
import type { EventLog } from './event-log';
import type { Turn } from './turn';

/** What answers a call, by the kind of the answer. */
export function resolvedByOf(answer: ThreadAnswerInput): AwaitedToolCall['resolvedBy'] {
  return answer.kind === 'confirmation' ? 'user.tool_confirmation' : 'user.custom_tool_result';
}

/**
 * Logs the client's answer to a waiting call (`user.tool_confirmation` or `user.custom_tool_result`, then the
 * `system.message` sent with a custom tool result), with `session_thread_id` when the session routed it to a child
 * thread. The session logs what it receives this way, and so does the thread that gets it.
 */
export function logClientAnswer(log: EventLog, answer: ThreadAnswerInput, threadId?: string): void {
  const thread = threadId === undefined ? {} : { session_thread_id: threadId };
  if (answer.kind === 'confirmation') {
    log.append({
      type: 'user.tool_confirmation',
      id: answer.id,
      tool_use_id: answer.eventId,
      result: answer.result,
      ...(answer.denyMessage === null ? {} : { deny_message: answer.denyMessage }),
      ...thread,
    });
    return;
  }
  log.append({
    type: 'user.custom_tool_result',
    id: answer.id,
    custom_tool_use_id: answer.eventId,
    content: answer.content,
    is_error: answer.isError,
    ...thread,
  });
  if (answer.system !== undefined) {
    log.append({ type: 'system.message', id: answer.system.id, content: answer.system.content });
  }
}

/** Hands the client's answer to the turn whose call waits for it (the system text first, for its next model call). */
export function resolveClientAnswer(turn: Turn | null, answer: ThreadAnswerInput): void {
  if (turn === null) return;
  if (answer.kind === 'confirmation') {
    turn.resolve(
      answer.eventId,
      answer.result === 'allow' ? { kind: 'allow' } : { kind: 'deny', message: answer.denyMessage },
    );
    return;
  }
  if (answer.system !== undefined) turn.addSystemContext(answer.system.content);
  turn.resolve(answer.eventId, { kind: 'custom_result', content: answer.content, isError: answer.isError });
}
