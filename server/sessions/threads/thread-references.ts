import { primaryThreadId, threadNotFound } from './primary-thread-id';

/**
 * The events of a send request without their `session_thread_id` (the `user.interrupt` field that names the thread to
 * interrupt), once each named thread is checked: the session's primary thread, its only thread, is sent as if no thread
 * were named; any other id is a 404 naming the field (`events[0].session_thread_id`).
 */
export function withoutPrimaryThreadReferences<Event extends object>(sessionId: string, events: Event[]): Event[] {
  return events.map((event, index) => {
    if (!('session_thread_id' in event)) return event;
    const { session_thread_id: threadId, ...rest } = event as Event & { session_thread_id?: unknown };
    if (typeof threadId === 'string' && threadId !== primaryThreadId(sessionId)) {
      throw threadNotFound(sessionId, threadId, `events[${index}].session_thread_id`);
    }
    return rest as Event;
  });
}
