import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../common/events';
import { LiveEventBus } from '../common/live-events';
import type { LiveEvent, LiveEventListener, LiveEvents } from '../common/live-events';
import { SessionEventReader } from '../server/sessions/events/session-event-reader';
import { firstAfter, SessionFeeds } from '../server/sessions/events/session-feed';
import { FakeSessionLog, recordingBlobStores } from './support/fake-session-log';

const blobStore = recordingBlobStores();

/** A bus whose resumes the test triggers, as the PostgreSQL channel does after it lost its connection. */
class ResumableBus implements LiveEvents {
  readonly reachesEveryWorker = true;
  private readonly local = new LiveEventBus();
  private readonly resumes = new Set<() => void>();
  publish(event: LiveEvent): void {
    this.local.publish(event);
  }
  subscribe(sessionId: string, listener: LiveEventListener): () => void {
    return this.local.subscribe(sessionId, listener);
  }
  onResume(listener: () => void): () => void {
    this.resumes.add(listener);
    return () => this.resumes.delete(listener);
  }
  resume(): void {
    for (const listener of this.resumes) listener();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A fake session of 3 events, and the feeds that follow it. */
async function sessionFeeds(bus: LiveEvents, pollIntervalMs: number, onDeltaDelivered?: (delayMs: number) => void) {
  const blobs = blobStore();
  const log = await FakeSessionLog.create({
    sessionId: 'sesn_feed_push',
    blobs,
    legacyRuns: 0,
    archivedRuns: 0,
    eventsPerRun: 3,
  });
  return { log, feeds: new SessionFeeds(new SessionEventReader(log, blobs), bus, pollIntervalMs, onDeltaDelivered) };
}

/** Follows a fake session of 3 events from the start; its first `failingReads` Queries fail as a timed-out one does. */
async function follow(
  bus: LiveEvents,
  pollIntervalMs = 100,
  failingReads = 0,
  onDeltaDelivered?: (delayMs: number) => void,
) {
  const { log, feeds } = await sessionFeeds(bus, pollIntervalMs, onDeltaDelivered);
  log.failNextQueries = failingReads;
  const positions: number[] = [];
  const errors: unknown[] = [];
  const texts: string[] = [];
  const unsubscribe = await feeds.subscribe(log.sessionId, -1, {
    onEvents: (events: LoggedEvent[]) => positions.push(...events.map((entry) => entry.position)),
    onTextDelta: (_eventId, text) => texts.push(text) > 0,
    onError: (error) => errors.push(error),
  });
  return { log, positions, texts, errors, unsubscribe, feeds };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SessionFeeds: pushed events, reads only when needed', () => {
  it('with live events that reach every worker, no read happens on a timer: pushed events are delivered as they come', async () => {
    const bus = new ResumableBus();
    const { log, positions, unsubscribe } = await follow(bus);
    const readsAtOpen = log.queries.length;
    await sleep(600);
    expect(log.queries.length).toBe(readsAtOpen);
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: log.append(2) });
    expect(positions).toEqual([0, 1, 2, 3, 4]);
    expect(log.queries.length).toBe(readsAtOpen);
    unsubscribe();
  });

  it('a gap, a log_grew hint and a resume each read the log once; nothing else does', async () => {
    const bus = new ResumableBus();
    const { log, positions, unsubscribe } = await follow(bus);
    const reads = (): number => log.queries.length;
    const before = reads();
    const skipped = log.append(2);
    const after = log.append(1);
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: after });
    await expect.poll(() => positions).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reads()).toBe(before + 1);
    expect(skipped).toHaveLength(2);

    log.append(1);
    bus.publish({ kind: 'log_grew', sessionId: log.sessionId });
    await expect.poll(() => positions.at(-1)).toBe(6);
    expect(reads()).toBe(before + 2);

    log.append(1);
    bus.resume();
    await expect.poll(() => positions.at(-1)).toBe(7);
    expect(reads()).toBe(before + 3);
    unsubscribe();
  });

  it('a failed read is retried with backoff and the stream stays open, never told of the failure', async () => {
    const bus = new ResumableBus();
    const { log, positions, errors, unsubscribe } = await follow(bus);
    log.failNextQueries = 3;
    log.append(1);
    bus.publish({ kind: 'log_grew', sessionId: log.sessionId });
    await expect.poll(() => positions.at(-1), { timeout: 5_000 }).toBe(3);
    expect(errors).toEqual([]);
    expect(log.failNextQueries).toBe(0);
    unsubscribe();
  });

  it('a subscriber whose first reads fail (its session between workers) is caught up once a read works, with no error', async () => {
    const { log, positions, errors, unsubscribe } = await follow(new ResumableBus(), 100, 4);
    expect(log.failNextQueries).toBe(0);
    expect(positions).toEqual([0, 1, 2]);
    expect(errors).toEqual([]);
    unsubscribe();
  });

  it('reports how long ago the worker produced each text delta it hands to a stream, and only those', async () => {
    const bus = new ResumableBus();
    const delays: number[] = [];
    const { log, texts, unsubscribe } = await follow(bus, 100, 0, (delayMs) => delays.push(delayMs));
    const producedAt = Date.now() - 40;
    bus.publish({ kind: 'text_delta', sessionId: log.sessionId, eventId: 'sevt_x', text: 'He', producedAt });
    // A delta with no production time (an older worker) is delivered but not measured.
    bus.publish({ kind: 'text_delta', sessionId: log.sessionId, eventId: 'sevt_x', text: 'llo' });
    expect(texts).toEqual(['He', 'llo']);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(40);
    expect(delays[0]).toBeLessThan(40 + 1_000);
    unsubscribe();
    // No stream follows the session any more: nothing is handed over, nothing measured.
    bus.publish({ kind: 'text_delta', sessionId: log.sessionId, eventId: 'sevt_x', text: '!', producedAt });
    expect(delays).toHaveLength(1);
  });

  it('does not measure a delta that no stream wrote (none asked for previews, or the message is logged already)', async () => {
    const bus = new ResumableBus();
    const delays: number[] = [];
    const { log, feeds } = await sessionFeeds(bus, 100, (delayMs) => delays.push(delayMs));
    const withoutPreviews = await feeds.subscribe(log.sessionId, -1, {
      onEvents: () => undefined,
      onError: () => undefined,
    });
    const skipping = await feeds.subscribe(log.sessionId, -1, {
      onEvents: () => undefined,
      onTextDelta: () => false,
      onError: () => undefined,
    });
    bus.publish({ kind: 'text_delta', sessionId: log.sessionId, eventId: 'sevt_y', text: 'x', producedAt: Date.now() });
    expect(delays).toEqual([]);
    withoutPreviews();
    skipping();
  });

  it('without live events from every worker (a server with no channel), the feed polls the log', async () => {
    const bus = new LiveEventBus({ reachesEveryWorker: false });
    const { log, positions, unsubscribe } = await follow(bus, 50);
    log.append(2);
    await expect.poll(() => positions).toEqual([0, 1, 2, 3, 4]);
    unsubscribe();
  });
});

describe('firstAfter: where a subscription resumes in the events it is handed', () => {
  const at = (...positions: number[]): LoggedEvent[] =>
    positions.map(
      (position) => ({ position, event: { type: 'session.status_idle', id: `sevt_${position}` } }) as LoggedEvent,
    );

  it('finds the first event past the position in log order, at either end or in between', () => {
    const buffer = at(10, 11, 12, 13, 14);
    expect(firstAfter(buffer, -1)).toBe(0);
    expect(firstAfter(buffer, 9)).toBe(0);
    expect(firstAfter(buffer, 10)).toBe(1);
    expect(firstAfter(buffer, 12)).toBe(3);
    expect(firstAfter(buffer, 14)).toBe(5);
    expect(firstAfter(buffer, 99)).toBe(5);
    expect(firstAfter([], 3)).toBe(0);
    // A page read from the log may skip positions (its events are still in order).
    expect(firstAfter(at(2, 5, 9), 5)).toBe(2);
    expect(firstAfter(at(2, 5, 9), 6)).toBe(2);
  });
});
