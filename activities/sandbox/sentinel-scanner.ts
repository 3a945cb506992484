const EMPTY = Buffer.alloc(0);

/**
 * Finds the end-of-run line `<sentinel><exit status>\n` that the run wrapper prints on stdout, and keeps it out of the
 * command's output. The run ends at that line even when a background process still holds the stream open.
 */
export class SentinelScanner {
  readonly #sentinel: Buffer;
  #pending: Buffer = EMPTY;
  #exitCode: number | undefined;

  constructor(sentinel: string) {
    this.#sentinel = Buffer.from(sentinel, 'utf8');
  }

  /** The exit status the wrapper reported, once its line was seen. */
  get exitCode(): number | undefined {
    return this.#exitCode;
  }

  /** Adds a stdout chunk and returns the bytes that are surely command output; a possible sentinel start is held. */
  push(chunk: Buffer): Buffer {
    if (this.#exitCode !== undefined) return EMPTY;
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let searchFrom = 0;
    for (;;) {
      const index = data.indexOf(this.#sentinel, searchFrom);
      if (index < 0) break;
      const statusStart = index + this.#sentinel.length;
      const newline = data.indexOf(0x0a, statusStart);
      const status = data.subarray(statusStart, newline < 0 ? data.length : newline).toString('latin1');
      if (newline < 0 && /^-?\d{0,10}$/.test(status)) {
        this.#pending = data.subarray(index);
        return data.subarray(0, index);
      }
      if (newline >= 0 && /^-?\d{1,10}$/.test(status)) {
        this.#exitCode = Number.parseInt(status, 10);
        this.#pending = EMPTY;
        return data.subarray(0, index);
      }
      searchFrom = index + 1;
    }
    const held = this.#heldSuffixLength(data);
    this.#pending = data.subarray(data.length - held);
    return data.subarray(0, data.length - held);
  }

  /** Returns the held bytes once the stream ended without a sentinel line. */
  flush(): Buffer {
    const rest = this.#pending;
    this.#pending = EMPTY;
    return rest;
  }

  #heldSuffixLength(data: Buffer): number {
    for (let length = Math.min(this.#sentinel.length - 1, data.length); length > 0; length--) {
      if (data.subarray(data.length - length).equals(this.#sentinel.subarray(0, length))) return length;
    }
    return 0;
  }
}
