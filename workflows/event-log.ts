import type { LoggedEvent, SessionEvent } from '../common/events';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as its producer writes it: the log assigns `processed_at`, and `id` unless the producer reserved one. */
export type NewSessionEvent = DistributiveOmit<SessionEvent, 'id' | 'processed_at'> & { id?: string };

/** What the log needs from its surroundings, injected so the log stays a pure, unit-testable object. */
export interface EventLogDependencies {
  /** Returns a fresh event id; in a Workflow, derived from `uuid4()` so replay gives the same ids. */
  newEventId(): string;
  /** Returns the current time as ISO text; in a Workflow, the deterministic Workflow clock. */
  now(): string;
  /** Called with every appended event, for live subscribers. */
  onAppend(events: LoggedEvent[]): void;
}

/**
 * The events of one run of a session, with positions that continue those of the previous runs. It is the only
 * place where session events are produced; every event is a deterministic function of the Workflow history.
 */
export class EventLog {
  private readonly events: LoggedEvent[] = [];

  /**
   * `carried` are events the previous run logged after its archive was written: they belong to this run, at their
   * positions from `firstPosition` on, and were already published live.
   */
  constructor(
    readonly firstPosition: number,
    private readonly dependencies: EventLogDependencies,
    carried: LoggedEvent[] = [],
  ) {
    this.events.push(...carried);
  }

  /**
   * Appends one event, assigning its id, time and position, and returns it as logged. `contentKey` marks an event
   * whose text body is in the blob store (see `StoredBodyRef`).
   */
  append(event: NewSessionEvent, contentKey?: string): SessionEvent {
    const logged = {
      ...event,
      id: event.id ?? this.dependencies.newEventId(),
      processed_at: this.dependencies.now(),
    } as SessionEvent;
    const entry: LoggedEvent = {
      position: this.nextPosition,
      event: logged,
      ...(contentKey === undefined ? {} : { contentKey }),
    };
    this.events.push(entry);
    this.dependencies.onAppend([entry]);
    return logged;
  }

  /** Returns a fresh id for an event that will be appended later (live deltas refer to it before it exists). */
  reserveId(): string {
    return this.dependencies.newEventId();
  }

  /** Position the next event will get. */
  get nextPosition(): number {
    return this.firstPosition + this.events.length;
  }

  /** The last event of this run, if any. */
  get lastEvent(): SessionEvent | null {
    return this.events.at(-1)?.event ?? null;
  }

  /** Every event of this run, in order (for its archive at continue-as-new). */
  all(): LoggedEvent[] {
    return this.events;
  }

  /** Events of this run at positions strictly greater than `after`, at most `limit` of them. */
  after(after: number, limit: number): LoggedEvent[] {
    const start = Math.max(0, after + 1 - this.firstPosition);
    return this.events.slice(start, start + limit);
  }
}
