import type { LoggedEvent } from '../../../common/events';
import type { LiveEvent, LiveEventBus } from '../../../common/live-events';
import { hasStoredBodies } from './event-bodies';
import type { SessionEventReader } from './session-event-reader';

/** A live reader of one session: gets every event after its cursor exactly once, in log order. */
export interface FeedSubscriber {
  onEvents(events: LoggedEvent[]): void;
  /** Best-effort text of an `agent.message` still being produced; never part of the log. */
  onTextDelta?(eventId: string, text: string): void;
  /** Best-effort sign that the model began the thinking `eventId` (an `agent.thinking`) will record; not logged. */
  onThinkingStarted?(eventId: string): void;
  onError(error: unknown): void;
}

interface Subscription {
  subscriber: FeedSubscriber;
  cursor: number;
  ready: boolean;
}

const CATCH_UP_PAGE = 500;
const BUFFER_LIMIT = 20_000;

/**
 * Follows one session for every subscriber in this server process, so subscribers cost the session nothing: one
 * poll of `getEventsQuery` at a time, and the worker's live bus (when in the same process) as the fast path. Every
 * event it holds or delivers has its stored body filled in; live events that need a blob read wait in one queue, so
 * what follows them (events and text deltas alike) is delivered after them, in order.
 */
class SessionFeed {
  readonly subscriptions = new Set<Subscription>();
  /** Contiguous events ending at `nextPosition - 1`; `nextPosition` is -1 until known. */
  private buffer: LoggedEvent[] = [];
  private nextPosition = -1;
  private refreshing: Promise<void> | null = null;
  private terminated = false;
  /** Live events waiting for their bodies, in arrival order; what arrives while any wait queues behind them. */
  private liveQueue: Promise<void> = Promise.resolve();
  private liveWaiting = 0;
  private readonly stopListening: () => void;
  private readonly pollTimer: NodeJS.Timeout;

  constructor(
    private readonly sessionId: string,
    private readonly reader: SessionEventReader,
    bus: LiveEventBus,
    pollIntervalMs: number,
  ) {
    this.stopListening = bus.subscribe(sessionId, (event) => this.onLive(event));
    this.pollTimer = setInterval(() => void this.refresh(), pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Brings a new subscription up to date from the log, then lets the feed deliver to it. */
  async catchUp(subscription: Subscription): Promise<void> {
    for (;;) {
      if (this.covers(subscription.cursor)) break;
      const read = await this.reader.read(this.sessionId, subscription.cursor, CATCH_UP_PAGE);
      if (read.events.length === 0) {
        if (this.nextPosition === -1) this.nextPosition = read.nextPosition;
        break;
      }
      this.deliver(subscription, read.events);
    }
    subscription.ready = true;
    this.deliver(subscription, this.buffer);
  }

  /** Stops following the session. */
  dispose(): void {
    this.stopListening();
    clearInterval(this.pollTimer);
  }

  private covers(cursor: number): boolean {
    if (this.nextPosition === -1) return false;
    return cursor + 1 >= this.nextPosition - this.buffer.length;
  }

  private onLive(event: LiveEvent): void {
    if (event.kind === 'appended') {
      if (this.nextPosition === -1) return;
      const fresh = event.events.filter((entry) => entry.position >= this.nextPosition);
      if (fresh.length === 0) return;
      if (this.liveWaiting === 0 && !hasStoredBodies(fresh)) {
        this.applyAppended(fresh);
        return;
      }
      this.afterWaitingLive(async () => this.applyAppended(await this.reader.bodies.hydrate(fresh)));
      return;
    }
    const preview = (): void => this.applyPreview(event);
    if (this.liveWaiting === 0) preview();
    else this.afterWaitingLive(preview);
  }

  /** Runs `step` after the live events already waiting; a failure (a missing body) goes to every subscriber. */
  private afterWaitingLive(step: () => void | Promise<void>): void {
    this.liveWaiting += 1;
    this.liveQueue = this.liveQueue
      .then(step)
      .catch((error: unknown) => {
        for (const subscription of this.subscriptions) subscription.subscriber.onError(error);
      })
      .finally(() => {
        this.liveWaiting -= 1;
      });
  }

  /** Hands a stream-only preview (never part of the log) to the subscribers that are up to date. */
  private applyPreview(event: Exclude<LiveEvent, { kind: 'appended' }>): void {
    for (const subscription of this.subscriptions) {
      if (!subscription.ready) continue;
      if (event.kind === 'text_delta') subscription.subscriber.onTextDelta?.(event.eventId, event.text);
      else subscription.subscriber.onThinkingStarted?.(event.eventId);
    }
  }

  /** Appends live events (bodies filled in) when they continue the buffer, or reads the log when some are missing. */
  private applyAppended(events: LoggedEvent[]): void {
    const fresh = events.filter((entry) => entry.position >= this.nextPosition);
    if (fresh[0] !== undefined && fresh[0].position === this.nextPosition) this.append(fresh);
    else if (fresh.length > 0) void this.refresh();
  }

  /** Reads what the log has beyond the buffer; one read at a time however many subscribers wait. */
  private refresh(): Promise<void> {
    if (this.nextPosition === -1 || this.terminated || this.subscriptions.size === 0) return Promise.resolve();
    this.refreshing ??= this.reader
      .read(this.sessionId, this.nextPosition - 1, CATCH_UP_PAGE)
      .then((read) => {
        const fresh = read.events.filter((entry) => entry.position >= this.nextPosition);
        if (fresh.length > 0) this.append(fresh);
      })
      .catch((error: unknown) => {
        for (const subscription of this.subscriptions) subscription.subscriber.onError(error);
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private append(events: LoggedEvent[]): void {
    for (const entry of events) {
      if (entry.position !== this.nextPosition) break;
      this.buffer.push(entry);
      this.nextPosition += 1;
      // Nothing follows the deletion (older sessions end at `session.status_terminated`, and their streams close).
      if (entry.event.type === 'session.deleted') this.terminated = true;
    }
    if (this.buffer.length > BUFFER_LIMIT) this.buffer = this.buffer.slice(-BUFFER_LIMIT / 2);
    for (const subscription of this.subscriptions) {
      if (!subscription.ready) continue;
      if (!this.covers(subscription.cursor)) {
        subscription.ready = false;
        void this.catchUp(subscription).catch((error: unknown) => subscription.subscriber.onError(error));
        continue;
      }
      this.deliver(subscription, this.buffer);
    }
  }

  private deliver(subscription: Subscription, events: LoggedEvent[]): void {
    const unseen = events.filter((entry) => entry.position > subscription.cursor);
    if (unseen.length === 0) return;
    const last = unseen.at(-1);
    if (last !== undefined) subscription.cursor = last.position;
    subscription.subscriber.onEvents(unseen);
  }
}

/** The server's live feeds, one per followed session, created on first subscription and dropped on the last. */
export class SessionFeeds {
  private readonly feeds = new Map<string, SessionFeed>();

  constructor(
    private readonly reader: SessionEventReader,
    private readonly bus: LiveEventBus,
    private readonly pollIntervalMs = 500,
  ) {}

  /** Delivers every event after position `after` to `subscriber`, then follows live; returns the unsubscribe. */
  async subscribe(sessionId: string, after: number, subscriber: FeedSubscriber): Promise<() => void> {
    let feed = this.feeds.get(sessionId);
    if (feed === undefined) {
      feed = new SessionFeed(sessionId, this.reader, this.bus, this.pollIntervalMs);
      this.feeds.set(sessionId, feed);
    }
    const subscription: Subscription = { subscriber, cursor: after, ready: false };
    feed.subscriptions.add(subscription);
    const unsubscribe = (): void => {
      const current = this.feeds.get(sessionId);
      if (current === undefined) return;
      current.subscriptions.delete(subscription);
      if (current.subscriptions.size === 0) {
        current.dispose();
        this.feeds.delete(sessionId);
      }
    };
    try {
      await feed.catchUp(subscription);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }

  /** Number of sessions followed now. */
  get size(): number {
    return this.feeds.size;
  }
}
