import { setTimeout as sleep } from 'node:timers/promises';
import { KeelApiError } from '../client';
import type { KeelClient, StreamItem } from '../client';

/** Options of `followSession`. */
export interface FollowOptions {
  /** Yield the events at positions after this one (-1, the default, for the whole log). */
  after?: number;
  /** Also yield live text deltas of `agent.message`. */
  textDeltas?: boolean;
  /** Stops following; the generator then returns quietly. */
  signal: AbortSignal;
  /** Called when the stream dropped and is about to be opened again, with what made it drop. */
  onReconnect?: (reason: unknown) => void;
  /** Called once a stream is open again after `onReconnect`. */
  onReconnected?: () => void;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

/**
 * Follows a session's events for as long as it lives: the log after `after`, then live. When the stream drops (the
 * server restarts, a proxy cuts it) it is opened again right after the last event seen, with a growing delay, so
 * nothing is lost; events are de-duplicated by id, so nothing is yielded twice. It returns after
 * `session.status_terminated` (or when the session is gone) and when `signal` aborts; it throws on an error a retry
 * cannot mend (the session does not exist, the key is refused).
 */
export async function* followSession(
  client: KeelClient,
  sessionId: string,
  options: FollowOptions,
): AsyncGenerator<StreamItem> {
  const { signal } = options;
  const seen = new Set<string>();
  let after = options.after ?? -1;
  let delayMs = FIRST_DELAY_MS;
  let dropped = false;
  while (!signal.aborted) {
    let reason: unknown = new Error('the event stream ended');
    try {
      const stream = await client.openEvents(sessionId, { after, textDeltas: options.textDeltas ?? false, signal });
      if (dropped) options.onReconnected?.();
      dropped = false;
      for await (const item of stream) {
        delayMs = FIRST_DELAY_MS;
        if (item.kind === 'event') {
          after = Math.max(after, item.position);
          if (seen.has(item.event.id)) continue;
          seen.add(item.event.id);
        }
        yield item;
        if (item.kind === 'event' && item.event.type === 'session.status_terminated') return;
      }
      if (signal.aborted) return;
      // A stream ends on its own when the session terminated; any other end is a drop.
      if ((await client.getSession(sessionId)).status === 'terminated') return;
    } catch (error) {
      if (signal.aborted) return;
      if (!retryable(error)) throw error;
      reason = error;
    }
    if (!dropped) options.onReconnect?.(reason);
    dropped = true;
    try {
      await sleep(delayMs, undefined, { signal });
    } catch {
      return;
    }
    delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
  }
}

/** Whether opening the stream again may work: a network failure or a server-side error, not a refused request. */
function retryable(error: unknown): boolean {
  if (!(error instanceof KeelApiError)) return true;
  return error.status >= 500 || error.status === 408 || error.status === 409 || error.status === 429;
}
