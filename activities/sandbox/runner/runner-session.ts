import type Docker from 'dockerode';

import { startExec } from '../start-exec';
import type { StartedExec } from '../start-exec';
import { RunnerFrameReader } from './runner-protocol';
import type { RunnerFrame, RunnerRequest } from './runner-protocol';
import { runnerArgv } from './runner-source';

/** How long a new runner may take to say it is ready (Python without `.pyc` files starts in about 50 ms). */
const READY_TIMEOUT_MS = 5_000;

/** Receives the frames that answer one request, then `undefined` once if the runner ends before the request is done. */
export type RunnerListener = (frame: RunnerFrame | undefined) => void;

/**
 * One persistent runner: a long-lived `docker exec` of `python3 -c <runner>` with its stdin and stdout attached. It
 * sends requests as JSON lines and hands each answer frame to the listener of its request id. It holds the worker's
 * event loop open only while a request waits for an answer, so an idle runner never keeps a worker from exiting.
 */
export class RunnerSession {
  /** The runner's pid inside the container. */
  readonly pid: number;
  /** Settles when the runner's stream has closed (the runner exited, or the container stopped). */
  readonly ended: Promise<void>;
  readonly #exec: StartedExec;
  readonly #listeners = new Map<string, RunnerListener>();
  #hasEnded = false;

  private constructor(exec: StartedExec, pid: number) {
    this.#exec = exec;
    this.pid = pid;
    this.ended = exec.ended.then(() => this.#end());
    exec.holdEventLoop(false);
  }

  /**
   * Starts a runner in the container and waits until it is ready; `undefined` when it cannot start or answer (no
   * `python3`, a crash at start-up). A container that is gone or stopped raises `ContainerStoppedError`.
   */
  static async start(docker: Docker, containerId: string): Promise<RunnerSession | undefined> {
    const reader = new RunnerFrameReader();
    let deliver: (frame: RunnerFrame) => void = () => {};
    let markReady: (pid: number) => void = () => {};
    const ready = new Promise<number>((resolve) => {
      markReady = resolve;
    });
    const exec = await startExec({
      docker,
      containerId,
      argv: runnerArgv(),
      keepStdinOpen: true,
      onOutput: (stream, data) => {
        if (stream !== 'stdout') return;
        for (const frame of reader.push(data)) {
          if (frame.type === 'ready') markReady(frame.pid);
          else deliver(frame);
        }
        if (reader.overflowed) exec.close();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const pid = await Promise.race([
      ready,
      exec.ended.then(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), READY_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (pid === undefined) {
      exec.close();
      return undefined;
    }
    const session = new RunnerSession(exec, pid);
    deliver = (frame) => session.#dispatch(frame);
    return session;
  }

  /** Whether the runner's stream has closed; a closed runner takes no requests. */
  get hasEnded(): boolean {
    return this.#hasEnded;
  }

  /**
   * Sends a request. Its answer frames go to `listener` (a `kill` has none of its own: its `killing` frame goes to the
   * listener of the command it names). Returns `false`, and sends nothing, when the runner has ended.
   */
  send(request: RunnerRequest, listener?: RunnerListener): boolean {
    if (this.#hasEnded) return false;
    if (listener) {
      this.#listeners.set(request.id, listener);
      if (this.#listeners.size === 1) this.#exec.holdEventLoop(true);
    }
    this.#exec.write(`${JSON.stringify(request)}\n`);
    return true;
  }

  /** Stops delivering frames for `id`, once its request is done or abandoned. */
  release(id: string): void {
    if (this.#listeners.delete(id) && this.#listeners.size === 0) this.#exec.holdEventLoop(false);
  }

  /** Drops the connection; the runner reads EOF and exits once its commands are done. */
  close(): void {
    this.#exec.close();
  }

  #dispatch(frame: RunnerFrame): void {
    if (frame.type !== 'ready') this.#listeners.get(frame.id)?.(frame);
  }

  #end(): void {
    this.#hasEnded = true;
    const listeners = [...this.#listeners.values()];
    this.#listeners.clear();
    this.#exec.holdEventLoop(false);
    for (const listener of listeners) listener(undefined);
  }
}
