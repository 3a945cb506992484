import type { LoggedEvent } from './events';

/**
 * What the in-process live bus carries for one session: events just appended to the log (a hint, the log is the
 * truth), a best-effort text delta of the `agent.message` that `eventId` will become, or the start of the model's
 * thinking that `eventId` (an `agent.thinking`) will record; the hosted stream previews thinking with a start only.
 */
export type LiveEvent =
  | { kind: 'appended'; sessionId: string; events: LoggedEvent[] }
  | { kind: 'text_delta'; sessionId: string; eventId: string; text: string }
  | { kind: 'thinking_started'; sessionId: string; eventId: string };

/** A listener of one session's live events. */
export type LiveEventListener = (event: LiveEvent) => void;

/**
 * The in-process live bus: the worker publishes to it, the server's streams subscribe. It is an in-process default
 * (DESIGN.md): with the server and worker in different processes, streams fall back to polling the log.
 */
export class LiveEventBus {
  private readonly listeners = new Map<string, Set<LiveEventListener>>();

  /** Delivers `event` to every listener of its session; a throwing listener does not stop the others. */
  publish(event: LiveEvent): void {
    const listeners = this.listeners.get(event.sessionId);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the bus keeps delivering.
      }
    }
  }

  /** Registers `listener` for `sessionId` and returns the function that removes it. */
  subscribe(sessionId: string, listener: LiveEventListener): () => void {
    let listeners = this.listeners.get(sessionId);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(sessionId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Number of sessions with at least one listener. */
  get sessionCount(): number {
    return this.listeners.size;
  }
}

/**
 * The Workflow sink through which the session Workflow tells its worker about appended events. Sinks are not
 * recorded in history and are not called during replay: they are a hint for live streams, never the log.
 */
export type LiveEventSinks = {
  liveEvents: {
    appended(events: LoggedEvent[]): void;
  };
};
