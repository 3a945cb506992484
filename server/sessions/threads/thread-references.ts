import { primaryThreadId } from '../../../common/multiagent';
import { threadNotFound } from './primary-thread-id';

/**
 * The events of a send request with their `session_thread_id` (the `user.interrupt` field that names the thread to
 * interrupt) checked: the session's primary thread is sent as if no thread were named (the field is dropped), a child
 * thread of the session keeps it, and any other id is a 404 naming the field (`events[0].session_thread_id`).
 * `childThreadIds` is asked only when an event names another thread than the primary.
 */
export async function resolveThreadReferences<Event extends object>(
  sessionId: string,
  events: Event[],
  childThreadIds: () => Promise<readonly string[]>,
): Promise<Event[]> {
  let children: readonly string[] | undefined;
  const resolved: Event[] = [];
  for (const [index, event] of events.entries()) {
    if (!('session_thread_id' in event)) {
      resolved.push(event);
      continue;
    }
    const { session_thread_id: threadId, ...rest } = event as Event & { session_thread_id?: unknown };
    if (typeof threadId !== 'string' || threadId === primaryThreadId(sessionId)) {
      resolved.push(rest as Event);
      continue;
    }
    children ??= await childThreadIds();
    if (!children.includes(threadId)) throw threadNotFound(sessionId, threadId, `events[${index}].session_thread_id`);
    resolved.push(event);
  }
  return resolved;
}
