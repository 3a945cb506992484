import type { LoggedEvent } from './events';

/**
 * What the live bus carries for one session: events just appended to the log (a hint, the log is the truth), a sign
 * that the log grew without the events themselves (they were too large for the channel: read the log), a best-effort
 * text delta of the `agent.message` that `eventId` will become (with `producedAt`, the worker's clock in epoch ms when
 * the model's text reached it), or the start of the model's thinking that `eventId` (an `agent.thinking`) will record;
 * the hosted stream previews thinking with a start only.
 */
export type LiveEvent =
  | { kind: 'appended'; sessionId: string; events: LoggedEvent[] }
  | { kind: 'log_grew'; sessionId: string }
  | { kind: 'text_delta'; sessionId: string; eventId: string; text: string; producedAt?: number }
  | { kind: 'thinking_started'; sessionId: string; eventId: string };

/** A listener of one session's live events. */
export type LiveEventListener = (event: LiveEvent) => void;

/**
 * How workers' live events reach servers' streams: the in-process `LiveEventBus` (`keel up`), or a cross-process
 * channel (`storage/postgres-live-events.ts`, PostgreSQL `LISTEN/NOTIFY`). Workers publish; servers subscribe.
 */
export interface LiveEvents {
  /** Sends `event` to every subscriber of its session, in this process and (for a channel) in every other. */
  publish(event: LiveEvent): void;
  /** Registers `listener` for `sessionId` and returns the function that removes it. */
  subscribe(sessionId: string, listener: LiveEventListener): () => void;
  /**
   * Whether what every worker of this Keel appends arrives here. When it does, a stream reads the log only when it
   * opens, after a gap or a resume, and on a slow safety net; when it does not (a `keel server` whose workers run in
   * other processes with no channel between them), the stream polls the log.
   */
  readonly reachesEveryWorker: boolean;
  /** Registers `listener` for the channel coming back after an interruption (events may have been missed). */
  onResume(listener: () => void): () => void;
  /** Releases the channel's connections. */
  close(): Promise<void>;
}

/**
 * The in-process live bus: the worker publishes to it, the server's streams subscribe. It is an in-process default
 * (DESIGN.md); the cross-process channels deliver through one too, to their own process's subscribers.
 */
export class LiveEventBus implements LiveEvents {
  private readonly listeners = new Map<string, Set<LiveEventListener>>();
  readonly reachesEveryWorker: boolean;

  /** `reachesEveryWorker`: whether this process's worker is the only one (`keel up`); `true` by default. */
  constructor(options: { reachesEveryWorker?: boolean } = {}) {
    this.reachesEveryWorker = options.reachesEveryWorker ?? true;
  }

  /** Never called: nothing interrupts a bus in one process. */
  onResume(): () => void {
    return () => undefined;
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }

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
