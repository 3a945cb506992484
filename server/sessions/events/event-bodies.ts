import type { BlobStore } from '../../../common/blob-store';
import type { LoggedEvent, SessionEvent } from '../../../common/events';
import { ApiError } from '../../api-error';
import { BoundedCache } from '../../bounded-cache';
import type { BoundedCacheLimits } from '../../bounded-cache';

const DEFAULT_CACHE: BoundedCacheLimits = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 };

/** Whether any of `entries` has its text body in the blob store (a `contentKey`), so `hydrate` has work to do. */
export function hasStoredBodies(entries: readonly LoggedEvent[]): boolean {
  return entries.some((entry) => entry.contentKey !== undefined);
}

/**
 * Fills in the text bodies that the log keeps in the blob store (`LoggedEvent.contentKey`, see `StoredBodyRef`), the
 * one place the server does so: every event a client sees, listed or streamed, goes through `hydrate` and has the
 * hosted wire shape. Bodies under a key never change, so they are cached (least recently used, bounded by bytes).
 */
export class EventBodies {
  private readonly cache: BoundedCache<string>;
  private readonly loading = new Map<string, Promise<string>>();
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly blobs: BlobStore,
    cacheLimits: BoundedCacheLimits = DEFAULT_CACHE,
  ) {
    this.cache = new BoundedCache(cacheLimits);
  }

  /**
   * `entries` in the same order, each event with a `contentKey` replaced by one whose `content` is the stored text
   * and which has no `contentKey`; the others are returned as they are. A body missing from the blob store is a 500
   * that names the event and the key.
   */
  async hydrate(entries: LoggedEvent[]): Promise<LoggedEvent[]> {
    if (!hasStoredBodies(entries)) return entries;
    const settled = await Promise.allSettled(
      entries.map(async (entry) => {
        if (entry.contentKey === undefined) return entry;
        const text = await this.text(entry.contentKey, entry);
        return { position: entry.position, event: withText(entry.event, text) };
      }),
    );
    // The first failure in log order, so the same page always reports the same missing body.
    return settled.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    });
  }

  /** The UTF-8 text stored under `key`, from the cache when it is there. */
  private text(key: string, entry: LoggedEvent): Promise<string> {
    const cached = this.cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let load = this.loading.get(key);
    if (load === undefined) {
      load = this.blobs
        .get(key)
        .then((body) => {
          if (body === null) throw missingBody(key, entry);
          const text = this.decoder.decode(body);
          this.cache.set(key, text, body.byteLength);
          return text;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    return load;
  }
}

/** `event` with `text` as its whole content; only tool results keep their bodies in the blob store. */
function withText(event: SessionEvent, text: string): SessionEvent {
  switch (event.type) {
    case 'agent.tool_result':
    case 'agent.mcp_tool_result':
      return { ...event, content: [{ type: 'text', text }] };
    default:
      throw new ApiError(
        'api_error',
        `Event ${event.id} (${event.type}) has a contentKey, but only agent.tool_result and agent.mcp_tool_result may.`,
      );
  }
}

function missingBody(key: string, entry: LoggedEvent): ApiError {
  return new ApiError(
    'api_error',
    `The content of event ${entry.event.id} (position ${entry.position}) is stored under blob key ${key}, which the ` +
      'blob store does not have: the server and the workers must share one blob store.',
  );
}
