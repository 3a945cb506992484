import { afterEach, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../common/events';
import { LiveEventBus } from '../common/live-events';
import { BoundedCache } from '../server/bounded-cache';
import { EventBodies } from '../server/sessions/events/event-bodies';
import { SessionEventReader } from '../server/sessions/events/session-event-reader';
import { SessionFeeds } from '../server/sessions/events/session-feed';
import { FakeSessionLog, RecordingBlobStore, storedEvent, toolOutputText } from './support/fake-session-log';

const stores: RecordingBlobStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.remove();
});

/** A blob store holding the stored body of the tool result at each of `positions`. */
async function storeWithBodies(positions: number[]): Promise<RecordingBlobStore> {
  const blobs = new RecordingBlobStore();
  stores.push(blobs);
  for (const position of positions) {
    const key = storedEvent(position, true).contentKey ?? '';
    await blobs.put(key, Buffer.from(toolOutputText(position)));
  }
  return blobs;
}

describe('EventBodies.hydrate', () => {
  it('fills in stored bodies in order, drops contentKey, and leaves other events as they are', async () => {
    const blobs = await storeWithBodies([4, 9]);
    const bodies = new EventBodies(blobs);
    const stored = Array.from({ length: 10 }, (_, position) => storedEvent(position, true));
    const hydrated = await bodies.hydrate(stored);
    expect(hydrated.map((entry) => entry.position)).toEqual(stored.map((entry) => entry.position));
    expect(hydrated[0]).toBe(stored[0]);
    expect(hydrated[4]).toEqual({
      position: 4,
      event: { ...stored[4]?.event, content: [{ type: 'text', text: toolOutputText(4) }] },
    });
    expect(hydrated[9]).not.toHaveProperty('contentKey');
    expect(stored[4]?.contentKey).toBeDefined();
  });

  it('returns the same array when no event has a stored body, and reads nothing', async () => {
    const blobs = await storeWithBodies([]);
    const entries = [storedEvent(0, true), storedEvent(4, false)];
    expect(await new EventBodies(blobs).hydrate(entries)).toBe(entries);
    expect(blobs.reads).toEqual([]);
  });

  it('reads a body once for concurrent hydrations, then from the cache; a cache too small for it reads again', async () => {
    const blobs = await storeWithBodies([4]);
    blobs.delayMs = 20;
    const bodies = new EventBodies(blobs);
    await Promise.all([bodies.hydrate([storedEvent(4, true)]), bodies.hydrate([storedEvent(4, true)])]);
    await bodies.hydrate([storedEvent(4, true)]);
    expect(blobs.reads).toHaveLength(1);

    const tiny = new EventBodies(blobs, { maxEntries: 100, maxBytes: 4 });
    await tiny.hydrate([storedEvent(4, true)]);
    await tiny.hydrate([storedEvent(4, true)]);
    expect(blobs.reads).toHaveLength(3);
  });

  it('a missing body rejects with an api_error naming the event and the key', async () => {
    const blobs = await storeWithBodies([]);
    const entry = storedEvent(4, true);
    await expect(new EventBodies(blobs).hydrate([entry])).rejects.toMatchObject({
      type: 'api_error',
      status: 500,
      message: expect.stringContaining(`event sevt_4 (position 4) is stored under blob key ${entry.contentKey}`),
    });
  });

  it('a contentKey on an event that is not a tool result is refused', async () => {
    const blobs = await storeWithBodies([4]);
    const message = storedEvent(0, true);
    const wrong: LoggedEvent = { ...message, contentKey: storedEvent(4, true).contentKey ?? '' };
    await expect(new EventBodies(blobs).hydrate([wrong])).rejects.toThrow(/sevt_0 \(agent\.message\) has a contentKey/);
  });
});

describe('BoundedCache', () => {
  it('evicts the least recently used beyond its entry count and its bytes, and keeps nothing larger than its bytes', () => {
    const cache = new BoundedCache<string>({ maxEntries: 3, maxBytes: 10 });
    cache.set('a', 'a', 2);
    cache.set('b', 'b', 2);
    cache.set('c', 'c', 2);
    expect(cache.get('a')).toBe('a');
    cache.set('d', 'd', 2);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.get('d')]).toEqual(['a', undefined, 'c', 'd']);
    cache.set('e', 'e', 7);
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(9);
    expect(cache.get('d')).toBe('d');
    cache.set('huge', 'huge', 11);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.bytes).toBe(9);
  });
});

describe('SessionFeeds with stored bodies', () => {
  it('delivers live events with their bodies filled in, and previews after them, in order while a body is read', async () => {
    const blobs = await storeWithBodies([14]);
    const log = await FakeSessionLog.create({
      sessionId: 'sesn_feed_order',
      blobs,
      legacyRuns: 0,
      archivedRuns: 0,
      eventsPerRun: 14,
    });
    const bus = new LiveEventBus();
    const feeds = new SessionFeeds(new SessionEventReader(log, blobs), bus, 60_000);
    const seen: string[] = [];
    const errors: unknown[] = [];
    let delivered: LoggedEvent[] = [];
    const unsubscribe = await feeds.subscribe(log.sessionId, -1, {
      onEvents: (events) => {
        delivered = [...delivered, ...events];
        seen.push(...events.map((entry) => `event ${entry.position}`));
      },
      onTextDelta: (eventId, text) => seen.push(`delta ${eventId} ${text}`) > 0,
      onThinkingStarted: (eventId) => seen.push(`thinking ${eventId}`),
      onError: (error) => errors.push(error),
    });
    expect(seen).toHaveLength(14);

    blobs.delayMs = 50;
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: [storedEvent(14, true)] });
    bus.publish({ kind: 'thinking_started', sessionId: log.sessionId, eventId: 'sevt_thinking' });
    bus.publish({ kind: 'text_delta', sessionId: log.sessionId, eventId: 'sevt_next', text: 'Hel' });
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: [storedEvent(15, true)] });
    expect(seen).toHaveLength(14);
    await expect.poll(() => seen.length).toBe(18);
    expect(seen.slice(14)).toEqual(['event 14', 'thinking sevt_thinking', 'delta sevt_next Hel', 'event 15']);
    expect(delivered[14]?.event).toMatchObject({ content: [{ type: 'text', text: toolOutputText(14) }] });
    expect(delivered[14]).not.toHaveProperty('contentKey');

    // With nothing waiting, an event without a stored body is delivered at once, as before.
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: [storedEvent(16, true)] });
    expect(seen.at(-1)).toBe('event 16');
    expect(errors).toEqual([]);
    unsubscribe();
    expect(feeds.size).toBe(0);
  });

  it('a live event whose body is missing reaches subscribers as an error, not as an empty text', async () => {
    const blobs = await storeWithBodies([]);
    const log = await FakeSessionLog.create({
      sessionId: 'sesn_feed_missing',
      blobs,
      legacyRuns: 0,
      archivedRuns: 0,
      eventsPerRun: 4,
    });
    const bus = new LiveEventBus();
    const feeds = new SessionFeeds(new SessionEventReader(log, blobs), bus, 60_000);
    const errors: unknown[] = [];
    const positions: number[] = [];
    const unsubscribe = await feeds.subscribe(log.sessionId, 3, {
      onEvents: (events) => positions.push(...events.map((entry) => entry.position)),
      onError: (error) => errors.push(error),
    });
    bus.publish({ kind: 'appended', sessionId: log.sessionId, events: [storedEvent(4, true)] });
    await expect.poll(() => errors.length).toBe(1);
    expect(String(errors[0])).toContain('event sevt_4 (position 4)');
    expect(positions).toEqual([]);
    unsubscribe();
  });
});
