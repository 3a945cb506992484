import path from 'node:path';
import { Worker } from 'node:worker_threads';

import type { HostProcessFailure, HostProcessReply, HostProcessRequest } from './host-process-thread';

/** What `execFileOffThread` runs: a program (never through a shell), its whole environment and its deadline. */
export interface OffThreadCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

/** What it printed. */
export interface OffThreadOutput {
  stdout: string;
  stderr: string;
}

/**
 * A failure of `execFileOffThread`: `execFile`'s error (message, code, whether it was killed and by which signal), with
 * what the program printed.
 */
export class OffThreadCommandError extends Error {
  readonly code: string | number | null;
  /** Killed by the deadline (`timeoutMs`), with `signal`. */
  readonly killed: boolean;
  readonly signal: string | null;

  constructor(
    failure: HostProcessFailure,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(failure.message);
    this.name = 'OffThreadCommandError';
    this.code = failure.code;
    this.killed = failure.killed;
    this.signal = failure.signal;
  }
}

const THREAD_FILE = path.join(__dirname, 'host-process-thread.ts');

/** The thread, and the requests it has not answered yet. */
interface HostProcessThread {
  worker: Worker;
  pending: Map<number, { resolve: (output: OffThreadOutput) => void; reject: (error: Error) => void }>;
}

let current: HostProcessThread | null = null;
let nextId = 0;

/**
 * `execFile` run from a thread of its own, so the wait for the child to start (Node's `spawn` holds the calling thread
 * through fork and exec: tens of milliseconds on a busy host) is mostly off the worker's event loop (fork still copies
 * the whole process's page tables). One thread per process, started on first use; it keeps the process alive only
 * while a program runs. Rejects with an `OffThreadCommandError` when the program fails, times out or cannot start, as
 * `execFile` would; should the thread itself die, what it was running rejects and the next call starts another.
 */
export function execFileOffThread(command: OffThreadCommand): Promise<OffThreadOutput> {
  const thread = hostProcessThread();
  const id = nextId++;
  const request: HostProcessRequest = { id, ...command };
  return new Promise((resolve, reject) => {
    thread.pending.set(id, { resolve, reject });
    thread.worker.ref();
    thread.worker.postMessage(request);
  });
}

function hostProcessThread(): HostProcessThread {
  if (current !== null) return current;
  // The thread runs TypeScript as the worker does (tsx), whether the worker was started by `keel` or by a test runner.
  const worker = new Worker(THREAD_FILE, { execArgv: ['--require', require.resolve('tsx/cjs')] });
  const thread: HostProcessThread = { worker, pending: new Map() };
  worker.on('message', (reply: HostProcessReply) => {
    const waiting = thread.pending.get(reply.id);
    thread.pending.delete(reply.id);
    if (thread.pending.size === 0) worker.unref();
    if (waiting === undefined) return;
    if (reply.error === null) waiting.resolve({ stdout: reply.stdout, stderr: reply.stderr });
    else waiting.reject(new OffThreadCommandError(reply.error, reply.stdout, reply.stderr));
  });
  // 'error' comes before 'exit': whichever comes first ends this thread's requests; a later call starts a new thread.
  const fail = (error: Error): void => {
    if (current === thread) current = null;
    for (const waiting of thread.pending.values()) waiting.reject(error);
    thread.pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the host process thread exited (code ${code})`)));
  worker.unref();
  current = thread;
  return thread;
}
