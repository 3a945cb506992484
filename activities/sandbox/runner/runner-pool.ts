import type Docker from 'dockerode';

import { ContainerStoppedError } from '../container-stopped-error';
import { RunnerSession } from './runner-session';

/** After a runner failed to start in a container, calls there use the per-call path for this long before trying again. */
const RETRY_START_AFTER_MS = 30_000;

/** A session's container as `provisionSandbox` last checked it: running, and what it was checked against. */
export interface CheckedSandbox {
  containerId: string;
  /** The session's file resources it mounts (`sandboxFilesKey`). */
  filesKey: string;
  /** The egress proxy it was given, if any (see `SANDBOX_NETWORK_LABELS.proxy`). */
  proxy: string | undefined;
}

/**
 * The persistent runners of one worker process, one per container, in memory only: a runner is started lazily by the
 * first call that needs it and replaced when its stream has ended (container replaced, runner crashed). Nothing else
 * depends on it: a new worker starts its own runners, and a dead worker's runner exits when its stdin closes.
 */
export class RunnerPool {
  readonly #docker: Docker;
  readonly #runners = new Map<string, Promise<RunnerSession | undefined>>();
  readonly #unavailableUntil = new Map<string, number>();
  /** The containers whose runner is live, by id. */
  readonly #live = new Map<string, RunnerSession>();
  /** Sessions' checked containers, by session id; each is dropped when its container's runner ends. */
  readonly #checked = new Map<string, CheckedSandbox>();

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
    this.#live.set(containerId, started);
    void started.ended.then(() => {
      if (this.#live.get(containerId) === started) this.#live.delete(containerId);
      for (const [sessionId, checked] of this.#checked) {
        if (checked.containerId === containerId) this.#checked.delete(sessionId);
      }
      const current = this.#runners.get(containerId);
      if (current) void current.then((entry) => entry === started && this.#runners.delete(containerId));
    });
    return started;
  }

  /**
   * Remembers `sandbox` as the session's container, which `provisionSandbox` has just found running (or started). It
   * is remembered only while this pool has a live runner in that container, and forgotten when that runner ends.
   */
  rememberCheckedSandbox(sessionId: string, sandbox: CheckedSandbox): void {
    this.#checked.delete(sessionId);
    if (this.#live.get(sandbox.containerId)?.hasEnded === false) this.#checked.set(sessionId, sandbox);
  }

  /**
   * The session's container as last checked, while this pool's runner in it is live: the runner's open exec is the
   * proof that the container still runs (an exec ends when its container stops), so a tool call can skip the Docker
   * inspect. In the instant between a container's stop and its runner's end, it is still offered: `execute` then finds
   * it stopped before the call began and provisions again.
   */
  checkedSandbox(sessionId: string): CheckedSandbox | undefined {
    const checked = this.#checked.get(sessionId);
    if (checked === undefined) return undefined;
    if (this.#live.get(checked.containerId)?.hasEnded === false) return checked;
    this.#checked.delete(sessionId);
    return undefined;
  }
}
