import { sandboxContainerName } from '../../common/sandbox';
import { dockerStatusCode } from './docker-status-code';
import type { SandboxOptions } from './sandbox-options';
import { removeWarmContainer, startWarmContainer } from './warm-container';
import type { WarmContainer } from './warm-container';
import { bindWorkspaceVolume } from './workspace-volume';

/** What a warm pool is made of. */
export interface WarmPoolOptions {
  /** The worker's sandbox options: warm containers get its image, limits and owner labels. */
  sandbox: Omit<SandboxOptions, 'warmPool'>;
  /** How many started containers the pool keeps ready (`KEEL_SANDBOX_WARM_POOL`); 0 starts nothing. */
  size: number;
  /**
   * Readies a started container further before it joins the pool (the worker starts the `execute` runner in it, so a
   * session's first command skips that too); a failure here is ignored, since the claim works without it.
   */
  prepare?: (containerId: string) => Promise<unknown>;
  /** Where failures to start a warm container are reported (they are retried, later and later); `console.error`. */
  log?: (message: string, error: unknown) => void;
}

/** What a pool has done so far, for tests and benchmarks. */
export interface WarmPoolStats {
  size: number;
  ready: number;
  starting: number;
  /** Containers started since the pool was made. */
  started: number;
  /** Containers handed to sessions. */
  claimed: number;
}

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 60_000;

/**
 * One worker's warm pool: `size` started sandbox containers that no session owns yet, so that the first sandbox tool
 * call of a session skips the container start. A claim takes a container out of the in-memory list synchronously (two
 * Activities of this worker never get the same one), binds the session's workspace to the container's volume, renames
 * the container after the session, and refills the pool in the background. Each container's watcher stops it when the
 * worker dies, and `close` removes the ready ones when the worker stops. Only sessions whose sandbox is the pool's
 * kind are served: see `warmPoolServes`.
 */
export class WarmPool {
  readonly size: number;
  readonly #options: WarmPoolOptions;
  readonly #ready: WarmContainer[] = [];
  readonly #starting = new Set<Promise<void>>();
  #closed = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #started = 0;
  #claimed = 0;
  /** Containers taken out of the list by a claim that has not ended: they may come back, so the pool counts them. */
  #claiming = 0;

  constructor(options: WarmPoolOptions) {
    this.#options = options;
    this.size = options.size;
  }

  /**
   * Starts containers in the background until `size` are ready, starting or out on a claim that may give them back; a
   * failed start is retried with backoff.
   */
  fill(): void {
    if (this.#closed || this.#retry !== undefined) return;
    while (this.#ready.length + this.#starting.size + this.#claiming < this.size) {
      const starting: Promise<void> = this.#startOne().finally(() => this.#starting.delete(starting));
      this.#starting.add(starting);
    }
  }

  /**
   * Hands a ready container to `sessionId` and returns its id, or `undefined` when none is ready, the session already
   * has a workspace, or another call for the session won (the caller then starts a container the normal way).
   */
  async claim(sessionId: string): Promise<string | undefined> {
    const warm = this.#take();
    if (warm === undefined) return undefined;
    this.#claiming += 1;
    try {
      return await this.#claimTaken(warm, sessionId);
    } finally {
      // Refilled only now: a claim that lost gives its container back, and the pool must not have started another.
      this.#claiming -= 1;
      this.fill();
    }
  }

  /** Binds a container taken from the list to `sessionId` and names it after the session (see `claim`). */
  async #claimTaken(warm: WarmContainer, sessionId: string): Promise<string | undefined> {
    let bound: boolean;
    try {
      bound = await bindWorkspaceVolume(this.#options.sandbox, sessionId, warm.volume);
    } catch (error) {
      // Whether the session's record was made is unknown: the container goes, never to another session.
      this.#discard(warm);
      throw error;
    }
    if (!bound) {
      this.#giveBack(warm);
      return undefined;
    }
    try {
      await this.#options.sandbox.docker.getContainer(warm.id).rename({ name: sandboxContainerName(sessionId) });
    } catch (error) {
      // The session's workspace is this container's volume now: it stays, for the container the caller starts.
      this.#discard(warm, true);
      const status = dockerStatusCode(error);
      if (status === 404 || status === 409) return undefined;
      throw error;
    }
    warm.disarm();
    this.#claimed += 1;
    return warm.id;
  }

  /** How many containers are ready, starting, started and claimed. */
  stats(): WarmPoolStats {
    return {
      size: this.size,
      ready: this.#ready.length,
      starting: this.#starting.size,
      started: this.#started,
      claimed: this.#claimed,
    };
  }

  /** Stops refilling and removes every container (and volume) no session claimed, the ones still starting included. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await Promise.allSettled([...this.#starting]);
    await Promise.allSettled(this.#ready.splice(0).map((warm) => this.#remove(warm)));
  }

  async #startOne(): Promise<void> {
    let warm: WarmContainer;
    try {
      warm = await startWarmContainer(this.#options.sandbox);
    } catch (error) {
      this.#failures += 1;
      const delay = Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.#failures - 1));
      (this.#options.log ?? console.error)(`keel worker: a warm sandbox did not start; retrying in ${delay} ms`, error);
      if (!this.#closed && this.#retry === undefined) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.fill();
        }, delay);
        this.#retry.unref();
      }
      return;
    }
    this.#failures = 0;
    this.#started += 1;
    await this.#options.prepare?.(warm.id).catch(() => undefined);
    if (this.#closed) {
      await this.#remove(warm);
      return;
    }
    this.#ready.push(warm);
    // A container that stopped under the pool (its watcher's connection dropped) is replaced.
    void warm.watcherEnded.then(() => {
      const index = this.#ready.indexOf(warm);
      if (index === -1 || this.#closed) return;
      this.#ready.splice(index, 1);
      this.#discard(warm);
    });
  }

  #take(): WarmContainer | undefined {
    for (let warm = this.#ready.shift(); warm !== undefined; warm = this.#ready.shift()) {
      if (!warm.ended) return warm;
      this.#discard(warm);
    }
    return undefined;
  }

  #giveBack(warm: WarmContainer): void {
    if (this.#closed || warm.ended) {
      this.#discard(warm);
      return;
    }
    this.#ready.unshift(warm);
  }

  /** Removes a container in the background and refills its place. */
  #discard(warm: WarmContainer, keepVolume = false): void {
    void this.#remove(warm, keepVolume).catch((error: unknown) =>
      (this.#options.log ?? console.error)(`keel worker: removing warm sandbox ${warm.name} failed`, error),
    );
    this.fill();
  }

  async #remove(warm: WarmContainer, keepVolume = false): Promise<void> {
    warm.closeWatcher();
    await removeWarmContainer(this.#options.sandbox.docker, warm, keepVolume);
  }
}
