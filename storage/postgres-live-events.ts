import pg from 'pg';
import { LiveEventBus } from '../common/live-events';
import type { LiveEvent, LiveEventListener, LiveEvents } from '../common/live-events';

/** The one channel every worker notifies and every server listens on. */
export const LIVE_EVENTS_CHANNEL = 'keel_live_events';

/** PostgreSQL refuses a `NOTIFY` payload of 8,000 bytes or more; a batch stays under this many. */
const PAYLOAD_LIMIT_BYTES = 7_500;
/** Events waiting to be sent while the database is unreachable; past this, text deltas are dropped first. */
const QUEUE_LIMIT = 20_000;
const MAX_BACKOFF_MS = 5_000;

/** What opening the channel needs. */
export interface PostgresLiveEventsOptions {
  /** The control plane's database (`KEEL_DATABASE_URL`). */
  url: string;
  /** Listen for other processes' events (a server); a worker that only publishes does not. */
  listen: boolean;
  /** Where connection trouble is reported (never with the URL's password). */
  log?: (line: string) => void;
}

/**
 * Live events across processes through PostgreSQL's `LISTEN/NOTIFY`: a worker's events reach the streams of every
 * server within a round trip of the database, in the order they were published (one publishing connection, one
 * listening connection per process). Notifications are batched (a JSON array per `NOTIFY`, under the 8 kB limit); an
 * `appended` too large for one is sent as `log_grew`, and the server reads the log. A lost listening connection is
 * re-made with backoff, then `onResume` tells the streams to re-read what they may have missed. Events stay in
 * Temporal: the channel only carries hints and text deltas.
 */
export class PostgresLiveEvents implements LiveEvents {
  readonly reachesEveryWorker = true;
  private readonly local = new LiveEventBus();
  private readonly resumeListeners = new Set<() => void>();
  private readonly queue: LiveEvent[] = [];
  private publisher: pg.Client | null = null;
  private listener: pg.Client | null = null;
  private draining = false;
  private closed = false;

  private constructor(private readonly options: PostgresLiveEventsOptions) {}

  /** Opens the channel; with `listen`, resolves once this process listens. */
  static async open(options: PostgresLiveEventsOptions): Promise<PostgresLiveEvents> {
    const events = new PostgresLiveEvents(options);
    if (options.listen) await events.connectListener();
    return events;
  }

  publish(event: LiveEvent): void {
    if (this.closed) return;
    this.queue.push(...splitTextDelta(event));
    while (this.queue.length > QUEUE_LIMIT) {
      const index = this.queue.findIndex((queued) => queued.kind === 'text_delta');
      this.queue.splice(index >= 0 ? index : 0, 1);
    }
    if (!this.draining) void this.drain();
  }

  subscribe(sessionId: string, listener: LiveEventListener): () => void {
    return this.local.subscribe(sessionId, listener);
  }

  onResume(listener: () => void): () => void {
    this.resumeListeners.add(listener);
    return () => this.resumeListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [this.publisher, this.listener].filter((client) => client !== null);
    this.publisher = null;
    this.listener = null;
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }

  /** Sends the queue in order, in batches, reconnecting with backoff while the database is unreachable. */
  private async drain(): Promise<void> {
    this.draining = true;
    let backoffMs = 100;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const { payload, count } = nextBatch(this.queue);
        try {
          const client = await this.publishingClient();
          await client.query('SELECT pg_notify($1, $2)', [LIVE_EVENTS_CHANNEL, payload]);
          this.queue.splice(0, count);
          backoffMs = 100;
        } catch (error) {
          this.options.log?.(`live events: could not notify (${(error as Error).message}); retrying`);
          await this.publisher?.end().catch(() => undefined);
          this.publisher = null;
          await sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async publishingClient(): Promise<pg.Client> {
    if (this.publisher !== null) return this.publisher;
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {
      if (this.publisher === client) this.publisher = null;
    });
    await client.connect();
    this.publisher = client;
    return client;
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: 10_000 });
    client.on('notification', (message) => {
      if (message.channel === LIVE_EVENTS_CHANNEL && message.payload !== undefined) this.deliver(message.payload);
    });
    client.on('error', (error) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.options.log?.(`live events: lost the listening connection (${error.message}); reconnecting`);
      void client.end().catch(() => undefined);
      void this.reconnectListener();
    });
    await client.connect();
    await client.query(`LISTEN ${LIVE_EVENTS_CHANNEL}`);
    this.listener = client;
  }

  private async reconnectListener(): Promise<void> {
    let backoffMs = 100;
    while (!this.closed) {
      try {
        await this.connectListener();
        for (const listener of this.resumeListeners) listener();
        return;
      } catch (error) {
        this.options.log?.(`live events: could not listen (${(error as Error).message}); retrying`);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private deliver(payload: string): void {
    let events: LiveEvent[];
    try {
      events = JSON.parse(payload) as LiveEvent[];
    } catch {
      return;
    }
    for (const event of events) this.local.publish(event);
  }
}

/** The longest prefix of `queue` whose JSON array fits one notification, with oversized events made to fit. */
export function nextBatch(queue: readonly LiveEvent[]): { payload: string; count: number } {
  const parts: string[] = [];
  let bytes = 2;
  for (const event of queue) {
    const part = JSON.stringify(fitted(event));
    const size = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && bytes + size > PAYLOAD_LIMIT_BYTES) break;
    parts.push(part);
    bytes += size;
  }
  return { payload: `[${parts.join(',')}]`, count: parts.length };
}

/** `event`, or for appended events too large for a notification, `log_grew` (the server reads the log instead). */
function fitted(event: LiveEvent): LiveEvent {
  if (event.kind !== 'appended' || Buffer.byteLength(JSON.stringify(event)) <= PAYLOAD_LIMIT_BYTES - 2) return event;
  return { kind: 'log_grew', sessionId: event.sessionId };
}

/** Characters of one text delta per notification: at most 6 bytes each as JSON (an escape), under the limit. */
const DELTA_CHARACTERS = 1_000;

/** A text delta cut into consecutive deltas that each fit a notification (their texts join to the original). */
export function splitTextDelta(event: LiveEvent): LiveEvent[] {
  if (event.kind !== 'text_delta' || event.text.length <= DELTA_CHARACTERS) return [event];
  const parts: LiveEvent[] = [];
  const characters = Array.from(event.text);
  for (let start = 0; start < characters.length; start += DELTA_CHARACTERS) {
    parts.push({ ...event, text: characters.slice(start, start + DELTA_CHARACTERS).join('') });
  }
  return parts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
