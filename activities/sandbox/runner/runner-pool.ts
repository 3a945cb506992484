import type Docker from 'dockerode';

import { ContainerStoppedError } from '../container-stopped-error';
import { RunnerSession } from './runner-session';

/** After a runner failed to start in a container, calls there use the per-call path for this long before trying again. */
const RETRY_START_AFTER_MS = 30_000;

/**
 * The persistent runners of one worker process, one per container, in memory only: a runner is started lazily by the
 * first call that needs it and replaced when its stream has ended (container replaced, runner crashed). Nothing else
 * depends on it: a new worker starts its own runners, and a dead worker's runner exits when its stdin closes.
 */
export class RunnerPool {
  readonly #docker: Docker;
  readonly #runners = new Map<string, Promise<RunnerSession | undefined>>();
  readonly #unavailableUntil = new Map<string, number>();

  constructor(docker: Docker) {
    this.#docker = docker;
  }

  /**
   * The live runner of a container, started if need be; `undefined` when none can run there (the caller then uses
   * the per-call path). A container that is gone or stopped raises `ContainerStoppedError`.
   */
  async acquire(containerId: string): Promise<RunnerSession | undefined> {
    const retryAt = this.#unavailableUntil.get(containerId);
    if (retryAt !== undefined) {
      if (Date.now() < retryAt) return undefined;
      this.#unavailableUntil.delete(containerId);
    }
    const existing = this.#runners.get(containerId);
    if (existing) {
      const runner = await existing;
      if (runner && !runner.hasEnded) return runner;
      if (this.#runners.get(containerId) === existing) this.#runners.delete(containerId);
      if (!runner) return undefined;
      return this.acquire(containerId);
    }
    const starting = this.#start(containerId);
    this.#runners.set(containerId, starting);
    return starting;
  }

  async #start(containerId: string): Promise<RunnerSession | undefined> {
    let runner: RunnerSession | undefined;
    try {
      runner = await RunnerSession.start(this.#docker, containerId);
    } catch (error) {
      this.#runners.delete(containerId);
      if (error instanceof ContainerStoppedError) throw error;
      // A Docker API failure: this call takes the per-call path, which meets the same failure and reports it.
      return undefined;
    }
    if (!runner) {
      this.#runners.delete(containerId);
      this.#unavailableUntil.set(containerId, Date.now() + RETRY_START_AFTER_MS);
      return undefined;
    }
    const started = runner;
    void started.ended.then(() => {
      const current = this.#runners.get(containerId);
      if (current) void current.then((entry) => entry === started && this.#runners.delete(containerId));
    });
    return started;
  }
}
