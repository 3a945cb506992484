/**
 * The timers and abort listeners of one run, all released by `clear`, so a run that ended early leaves nothing behind
 * that keeps the worker busy.
 */
export class Waits {
  readonly #cleanups: Array<() => void> = [];

  /** Resolves after `milliseconds`. */
  delay(milliseconds: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, milliseconds);
      this.#cleanups.push(() => clearTimeout(timer));
    });
  }

  /** Resolves when `signal` aborts (at once if it already has); never without a signal. */
  abort(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (!signal) return;
      if (signal.aborted) return resolve();
      const listener = (): void => resolve();
      signal.addEventListener('abort', listener, { once: true });
      this.#cleanups.push(() => signal.removeEventListener('abort', listener));
    });
  }

  /** A promise and the function that settles it. */
  deferred<Value = void>(): { promise: Promise<Value>; resolve: (value: Value) => void } {
    let resolve: (value: Value) => void = () => {};
    const promise = new Promise<Value>((settle) => {
      resolve = settle;
    });
    return { promise, resolve };
  }

  /** Cancels every pending delay and abort listener. */
  clear(): void {
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}
