/** How much a `BoundedCache` may hold. */
export interface BoundedCacheLimits {
  /** Most entries kept at once. */
  maxEntries: number;
  /** Most bytes kept at once, as the sizes given to `set` add up; an entry larger than this is not kept at all. */
  maxBytes: number;
}

/**
 * A least-recently-used cache bounded both by its number of entries and by the bytes they weigh (each entry's size
 * is given by the caller). Meant for immutable bodies read from the blob store, which never need invalidating.
 */
export class BoundedCache<Value> {
  private readonly entries = new Map<string, { value: Value; bytes: number }>();
  private totalBytes = 0;

  constructor(private readonly limits: BoundedCacheLimits) {}

  /** The value under `key`, marked as the most recently used, or `undefined`. */
  get(key: string): Value | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` under `key` as the most recently used, evicting the least recently used beyond the limits. */
  set(key: string, value: Value, bytes: number): void {
    this.delete(key);
    if (bytes > this.limits.maxBytes || this.limits.maxEntries <= 0) return;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    while (this.entries.size > this.limits.maxEntries || this.totalBytes > this.limits.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  /** Number of entries kept now. */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.totalBytes;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
