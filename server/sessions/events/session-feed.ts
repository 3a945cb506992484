import type { LoggedEvent } from '../../../common/events';
import type { LiveEvent, LiveEvents } from '../../../common/live-events';
import { ApiError } from '../../api-error';
import { hasStoredBodies } from '../../../common/stored-event-bodies';
import type { SessionEventReader } from './session-event-reader';

/** A live reader of one session: gets every event after its cursor exactly once, in log order. */
export interface FeedSubscriber {
  onEvents(events: LoggedEvent[]): void;
  /**
   * Best-effort text of an `agent.message` still being produced; never part of the log. Returns whether it was written
   * (a stream that already holds the logged message skips it).
   */
  onTextDelta?(eventId: string, text: string): boolean;
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
/** With a channel that reaches every worker, the log is still re-read this often: changes no worker announces. */
const SAFETY_READ_MS = 30_000;
/** A failed read is retried after this long, doubling up to `MAX_RETRY_MS`; the streams stay open meanwhile. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;
/** After `log_grew`, reads that find nothing new are tried again this many times (the log may lag the hint). */
const GROWTH_READS = 5;
/**
 * How long a subscriber's catch-up keeps retrying a read that fails: long enough for a session whose only worker
 * died to get a new one (its Queries time out meanwhile), short enough that a session no worker serves is reported.
 */
const CATCH_UP_PATIENCE_MS = 120_000;

/**
 * Whether a failed read is one no retry can fix: an `ApiError` (the log refers to a body the blob store lacks, an
 * archive is not as referenced), except a 504 `timeout_error`, which says only that no worker answered in time yet (a
 * session between workers), so the read is tried again.
 */
function isFinal(error: unknown): error is ApiError {
  return error instanceof ApiError && error.type !== 'timeout_error';
}

/**
 * Follows one session for every subscriber in this server process, so subscribers cost the session nothing: events
 * arrive pushed by the live events (the in-process bus, or the cross-process channel), and the log is read only when
 * a subscriber opens, when a pushed event leaves a gap, when the channel resumes after an interruption, and on a
 * 30 s safety net (for what no worker announces, a termination from the Temporal UI). Only when the live events do
 * not reach every worker (a `keel server` with no channel) does the feed poll the log. A failed read is retried with
 * backoff; it never ends a stream. Every event it holds or delivers has its stored body filled in; live events that
 * need a blob read wait in one queue, so what follows them (events and text deltas alike) is delivered after them.
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
  private readonly stopResuming: () => void;
  private readonly pollTimer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = FIRST_RETRY_MS;
  private disposed = false;

  constructor(
    private readonly sessionId: string,
    private readonly reader: SessionEventReader,
    bus: LiveEvents,
    pollIntervalMs: number,
    private readonly onDeltaDelivered?: DeltaDelayObserver,
  ) {
    this.stopListening = bus.subscribe(sessionId, (event) => this.onLive(event));
    this.stopResuming = bus.onResume(() => void this.refresh());
    this.pollTimer = setInterval(() => void this.refresh(), bus.reachesEveryWorker ? SAFETY_READ_MS : pollIntervalMs);
    this.pollTimer.unref();
  }

  /**
   * Brings a new subscription up to date from the log, then lets the feed deliver to it. A read that fails for a
   * reason a retry can fix (a Query that timed out while the session had no worker) is retried with backoff for
   * `CATCH_UP_PATIENCE_MS` while the subscriber stays; a final failure (`isFinal`) fails at once.
   */
  async catchUp(subscription: Subscription): Promise<void> {
    for (;;) {
      if (this.covers(subscription.cursor)) break;
      const read = await this.patientRead(subscription, subscription.cursor);
      if (read.events.length === 0) {
        if (this.nextPosition === -1) this.nextPosition = read.nextPosition;
        break;
      }
      this.deliver(subscription, read.events);
    }
    subscription.ready = true;
    this.deliver(subscription, this.buffer);
  }

  /** Reads a page after `after`, retrying failures that are not final (`isFinal`) while `subscription` stays. */
  private async patientRead(subscription: Subscription, after: number): ReturnType<SessionEventReader['read']> {
    const giveUpAt = Date.now() + CATCH_UP_PATIENCE_MS;
    for (let waitMs = FIRST_RETRY_MS; ; waitMs = Math.min(waitMs * 2, MAX_RETRY_MS)) {
      try {
        return await this.reader.read(this.sessionId, after, CATCH_UP_PAGE);
      } catch (error) {
        const stayed = this.subscriptions.has(subscription) && !this.disposed;
        if (isFinal(error) || !stayed || Date.now() + waitMs > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** Stops following the session. */
  dispose(): void {
    this.disposed = true;
    this.stopListening();
    this.stopResuming();
    clearInterval(this.pollTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }

  private covers(cursor: number): boolean {
    if (this.nextPosition === -1) return false;
    return cursor + 1 >= this.nextPosition - this.buffer.length;
  }

  private onLive(event: LiveEvent): void {
    if (event.kind === 'log_grew') {
      this.afterWaitingLive(() => this.readUntilGrown());
      return;
    }
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

  /**
   * Runs `step` after the live events already waiting. When it fails for good (`isFinal`: a body the blob store
   * does not have), every subscriber is told; any other failure (a read that may work later) reads the log instead.
   */
  private afterWaitingLive(step: () => void | Promise<void>): void {
    this.liveWaiting += 1;
    this.liveQueue = this.liveQueue
      .then(step)
      .catch((error: unknown) => (isFinal(error) ? this.fail(error) : this.refresh()))
      .finally(() => {
        this.liveWaiting -= 1;
      });
  }

  /** Reads the log after a `log_grew` hint until it shows something new, a few times at most (it may lag the hint). */
  private async readUntilGrown(): Promise<void> {
    let waitMs = 50;
    for (let attempt = 0; attempt < GROWTH_READS && !this.disposed; attempt += 1) {
      const before = this.nextPosition;
      await this.refresh();
      if (this.nextPosition !== before) return;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs *= 2;
    }
  }

  /** Hands a stream-only preview (never part of the log) to the subscribers that are up to date. */
  private applyPreview(event: Extract<LiveEvent, { kind: 'text_delta' | 'thinking_started' }>): void {
    let written = false;
    for (const subscription of this.subscriptions) {
      if (!subscription.ready) continue;
      if (event.kind === 'text_delta') {
        written = (subscription.subscriber.onTextDelta?.(event.eventId, event.text) ?? false) || written;
      } else subscription.subscriber.onThinkingStarted?.(event.eventId);
    }
    if (written && event.kind === 'text_delta' && event.producedAt !== undefined) {
      this.onDeltaDelivered?.(Date.now() - event.producedAt);
    }
  }

  /** Appends live events (bodies filled in) when they continue the buffer, or reads the log when some are missing. */
  private applyAppended(events: LoggedEvent[]): void {
    const fresh = events.filter((entry) => entry.position >= this.nextPosition);
    if (fresh[0] !== undefined && fresh[0].position === this.nextPosition) this.append(fresh);
    else if (fresh.length > 0) void this.refresh();
  }

  /**
   * Reads what the log has beyond the buffer (all of it, page by page); one read at a time however many subscribers
   * wait. A failed read is tried again with backoff while anyone follows the session: a stream never ends for it,
   * unless the failure is one no retry can fix (`isFinal`: the log refers to a body the blob store lacks).
   */
  private refresh(): Promise<void> {
    if (this.nextPosition === -1 || this.terminated || this.subscriptions.size === 0 || this.disposed) {
      return Promise.resolve();
    }
    this.refreshing ??= this.readAll()
      .then(() => {
        this.retryMs = FIRST_RETRY_MS;
      })
      .catch((error: unknown) => (isFinal(error) ? this.fail(error) : this.retryLater()))
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private async readAll(): Promise<void> {
    for (;;) {
      const read = await this.reader.read(this.sessionId, this.nextPosition - 1, CATCH_UP_PAGE);
      const fresh = read.events.filter((entry) => entry.position >= this.nextPosition);
      const before = this.nextPosition;
      if (fresh.length > 0) this.append(fresh);
      if (this.nextPosition === before || read.events.length < CATCH_UP_PAGE || this.terminated) return;
    }
  }

  /** Tells every subscriber of a failure no retry can fix (their streams end with it). */
  private fail(error: ApiError): void {
    for (const subscription of this.subscriptions) subscription.subscriber.onError(error);
  }

  private retryLater(): void {
    if (this.retryTimer !== null || this.disposed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.refresh();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
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

  /** Delivers the events of `events` (in log order) past the subscription's cursor, found without a scan of them all. */
  private deliver(subscription: Subscription, events: LoggedEvent[]): void {
    const unseen = events.slice(firstAfter(events, subscription.cursor));
    const last = unseen.at(-1);
    if (last === undefined) return;
    subscription.cursor = last.position;
    subscription.subscriber.onEvents(unseen);
  }
}

/**
 * The index of the first event past `position` in `events`, which are in log order (ascending positions): a binary
 * search, since the buffer a live event is delivered from holds up to `BUFFER_LIMIT` events. Exported for its test.
 */
export function firstAfter(events: readonly LoggedEvent[], position: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((events[middle]?.position ?? Number.POSITIVE_INFINITY) > position) high = middle;
    else low = middle + 1;
  }
  return low;
}

/**
 * Told, once per text delta that this server wrote to at least one stream, how long ago in ms the worker produced it
 * (its `producedAt`; across machines this includes the difference of their clocks).
 */
export type DeltaDelayObserver = (delayMs: number) => void;

/** The server's live feeds, one per followed session, created on first subscription and dropped on the last. */
export class SessionFeeds {
  private readonly feeds = new Map<string, SessionFeed>();

  constructor(
    private readonly reader: SessionEventReader,
    private readonly bus: LiveEvents,
    private readonly pollIntervalMs = 500,
    private readonly onDeltaDelivered?: DeltaDelayObserver,
  ) {}

  /** Delivers every event after position `after` to `subscriber`, then follows live; returns the unsubscribe. */
  async subscribe(sessionId: string, after: number, subscriber: FeedSubscriber): Promise<() => void> {
    let feed = this.feeds.get(sessionId);
    if (feed === undefined) {
      feed = new SessionFeed(sessionId, this.reader, this.bus, this.pollIntervalMs, this.onDeltaDelivered);
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
