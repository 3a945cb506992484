import { capOutput } from './cap-output';

/**
 * Collects a stream's bytes with bounded memory: it keeps the first and the last `maxBytes` bytes and counts the rest,
 * so a command that prints gigabytes cannot exhaust the worker, and `text()` still shows head and tail.
 */
export class OutputCollector {
  readonly #maxBytes: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #totalBytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** How many bytes were pushed in all. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Adds a chunk of the stream. */
  push(chunk: Buffer): void {
    this.#totalBytes += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#maxBytes) {
      const taken = rest.subarray(0, this.#maxBytes - this.#headBytes);
      this.#head.push(taken);
      this.#headBytes += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length === 0) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    while (this.#tail.length > 1 && this.#tailBytes - (this.#tail[0]?.length ?? 0) >= this.#maxBytes) {
      this.#tailBytes -= this.#tail.shift()?.length ?? 0;
    }
  }

  /**
   * Adds a stream that was collected elsewhere and kept as head and tail (a recorded call): the same bytes in, so
   * `text()` gives what collecting the whole stream would have given, `totalBytes` counting what was dropped.
   */
  pushKept(head: Buffer, tail: Buffer, totalBytes: number): void {
    this.push(head);
    this.push(tail);
    this.#totalBytes += Math.max(0, totalBytes - head.length - tail.length);
  }

  /** The collected text, capped at `maxBytes` with head and tail kept, and `note` in the cut marker (see `capOutput`). */
  text(note?: string): string {
    const head = Buffer.concat(this.#head);
    const allTail = Buffer.concat(this.#tail);
    const tail = allTail.subarray(Math.max(0, allTail.length - this.#maxBytes));
    const droppedBytes = this.#totalBytes - head.length - tail.length;
    return capOutput(Buffer.concat([head, tail]), this.#maxBytes, droppedBytes, note);
  }
}
