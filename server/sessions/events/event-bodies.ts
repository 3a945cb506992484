import type { BlobStore } from '../../../common/blob-store';
import type { LoggedEvent } from '../../../common/events';
import { hasStoredBodies, readStoredText, withStoredText } from '../../../common/stored-event-bodies';
import { ApiError } from '../../api-error';
import { BoundedCache } from '../../bounded-cache';
import type { BoundedCacheLimits } from '../../bounded-cache';

const DEFAULT_CACHE: BoundedCacheLimits = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 };

/** The server's failure for a missing or misplaced body: a 500 `api_error` that names the event and the key. */
const serverError = (message: string): ApiError => new ApiError('api_error', message);

/**
 * Fills in the text bodies that the log keeps in the blob store (`LoggedEvent.contentKey`, see `StoredBodyRef`), the
 * one place the server does so: every event a client sees, listed or streamed, goes through `hydrate` and has the
 * hosted wire shape. Bodies under a key never change, so they are cached (least recently used, bounded by bytes).
 */
export class EventBodies {
  private readonly cache: BoundedCache<string>;
  private readonly loading = new Map<string, Promise<string>>();

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
        return { position: entry.position, event: withStoredText(entry.event, text, serverError) };
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
      load = readStoredText(this.blobs, key, entry, serverError)
        .then(({ text, bytes }) => {
          this.cache.set(key, text, bytes);
          return text;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, load);
    }
    return load;
  }
}
